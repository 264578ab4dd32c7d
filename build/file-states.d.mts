/** Types of ./file-states.mjs (plain JavaScript, so that build/dev-launch.mjs needs no TypeScript loader). */

/** A file as stamped: its content's hash, and the size and time that let a later check skip reading it. */
export interface FileState {
  readonly sha256: string;
  readonly size: number;
  /** Modification time in ns since the epoch, as a decimal string (beyond a double's precision). */
  readonly mtimeNs: string;
}

export declare const sha256: (content: Uint8Array | string) => string;
export declare const nowNs: () => bigint;

export declare class FileStateReader {
  stat(path: string): Promise<{ size: number; mtimeNs: bigint } | undefined>;
  hash(path: string): Promise<string | undefined>;
  state(path: string): Promise<FileState | undefined>;
  recheck(path: string, stamped: FileState, stampedAtNs: bigint): Promise<{ state: FileState; read: boolean } | undefined>;
}

export declare function statesOf(
  files: FileStateReader,
  root: string,
  paths: readonly string[],
): Promise<Record<string, FileState> | undefined>;
export declare function recheckAll(
  files: FileStateReader,
  root: string,
  stamped: Readonly<Record<string, FileState>>,
  stampedAtNs: bigint,
): Promise<{ states: Record<string, FileState>; read: boolean } | undefined>;
export declare function parseStampTime(value: unknown): bigint | undefined;
export declare function writeJsonAtomically(path: string, value: unknown): Promise<void>;
export declare function writeFileAtomically(path: string, content: string | Uint8Array): Promise<void>;

/** What every stamp holds; a caller's stamp adds the fields that decide its build. */
export interface Stamp {
  /** When the file states were taken (ns since the epoch, decimal). */
  readonly stampedAtNs: string;
  readonly inputs: Readonly<Record<string, FileState>>;
  readonly outputs: Readonly<Record<string, FileState>>;
}

export interface StampCheck<S extends Stamp> {
  /** Whether the stamp's own fields (format, options, versions) still describe the build wanted. */
  accept(stamp: Record<string, unknown> & Stamp): boolean | Promise<boolean>;
  /** Where the stamp's input paths are relative to. */
  readonly inputsRoot: string;
  /** Where its output paths are relative to. */
  outputsRoot(stamp: S): string;
  /** A reader shared with other checks of the same round. */
  readonly files?: FileStateReader;
}

export interface StampWrite {
  /** The caller's fields (format, options, versions, …). */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly inputsRoot: string;
  readonly inputs: readonly string[];
  readonly outputsRoot: string;
  readonly outputs: readonly string[];
}

export declare function validStamp<S extends Stamp>(path: string, check: StampCheck<S>): Promise<S | undefined>;
/** The outputs' states as stamped (sizes and content hashes), or undefined when a file could not be read and no stamp was written. */
export declare function writeStamp(path: string, build: StampWrite): Promise<Record<string, FileState> | undefined>;
