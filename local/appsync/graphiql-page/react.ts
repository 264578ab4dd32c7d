/**
 * The page runs on the React 18 and GraphiQL 3 UMD bundles (globals
 * `React`, `ReactDOM`, `GraphiQL`); these are the few of their members the
 * page's code uses, typed here so the sources compile with the project's
 * Node-only TypeScript settings (no DOM library).
 */
export type Element = { readonly __reactElement: true };
export type Child = Element | string | number | null | undefined | false;
export type Props = Record<string, unknown>;
export type Component<P> = (props: P) => Element | null;

export interface ReactGlobal {
  createElement(type: string | Component<never> | object, props?: Props | null, ...children: Child[]): Element;
  useState<T>(initial: T | (() => T)): [T, (next: T | ((previous: T) => T)) => void];
  useMemo<T>(factory: () => T, deps: readonly unknown[]): T;
  useRef<T>(initial: T): { current: T };
  useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
  useCallback<T extends (...args: never[]) => unknown>(callback: T, deps: readonly unknown[]): T;
}

export interface ReactDOMGlobal {
  createRoot(container: unknown): { render(element: Element): void };
}

/** Form events only need the target's value. */
export interface InputEvent {
  readonly target: { readonly value: string };
}

function global<T>(name: string): T {
  const value = (globalThis as Record<string, unknown>)[name];
  if (value === undefined) throw new Error(`${name} is not loaded: the page's scripts load in the wrong order`);
  return value as T;
}

export const React = (): ReactGlobal => global<ReactGlobal>('React');
export const ReactDOM = (): ReactDOMGlobal => global<ReactDOMGlobal>('ReactDOM');
/** The GraphiQL component (the UMD bundle's global). */
export const GraphiQL = (): object => global<object>('GraphiQL');
