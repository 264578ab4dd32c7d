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
