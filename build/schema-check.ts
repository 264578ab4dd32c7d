import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';
import { repositoryRoot } from '../declarations/paths.js';
import { appSyncBuiltinsSDL } from '../declarations/scalars.js';
import { loadSchemaSDL, schemaDirectory } from '../declarations/schema.js';

/**
 * The schema change gate (`npm run schema:check`): today's `schema/` against
 * the last released schema kept in `schema/released/`, compared with
 * @graphql-inspector/core's `diff`, both loaded as AppSync loads them (its
 * scalars and directives declared, declarations/schema.ts). A breaking change
 * (a removed field, a narrowed type, a new required argument) breaks clients
 * already deployed, so it fails the check unless
 * `schema/released/acknowledged-breaking-changes.json` names it with a reason.
 * Dangerous and safe changes are listed and pass. On release, copy `schema/`
 * into `schema/released/` and empty the acknowledgements.
 */

export const releasedSchemaDirectory = join(schemaDirectory, 'released');
export const acknowledgementsFile = join(releasedSchemaDirectory, 'acknowledged-breaking-changes.json');

/** One breaking change let through on purpose: `type` and `path` as the check prints them. */
export interface Acknowledgement {
  readonly type: string;
  readonly path: string;
  /** Why clients will not break (e.g. "no client queries it: checked in the access logs"). */
  readonly reason: string;
}

export interface SchemaChange {
  readonly type: string;
  /** `Type.field` or `Type.field.argument`, where the change has one. */
  readonly path: string;
  readonly message: string;
  readonly level: 'breaking' | 'dangerous' | 'safe';
  /** A breaking change's acknowledgement. */
  readonly acknowledgement?: Acknowledgement;
}

export interface SchemaCheckResult {
  readonly changes: readonly SchemaChange[];
  /** Breaking changes nobody acknowledged: each fails the check. */
  readonly unacknowledged: readonly SchemaChange[];
  /** Acknowledgements that match no breaking change (left over from a release): each fails the check too. */
  readonly stale: readonly Acknowledgement[];
  readonly ok: boolean;
}

export interface SchemaCheckInput {
  /** The SDL being proposed (default: every `schema/*.graphql`, as deployed). */
  readonly current: string;
  /** The last released SDL. */
  readonly released: string;
  readonly acknowledgements: readonly Acknowledgement[];
}

const LEVELS: Readonly<Record<CriticalityLevel, SchemaChange['level']>> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

/**
 * The inspector is always loaded by Node itself, which resolves `graphql` to
 * its CommonJS build; a bundler or test runner may hand project code the ESM
 * build instead, and graphql refuses types from another instance. So both
 * schemas are built with the CommonJS build the inspector uses, from the same
 * text AppSync gets plus its built-in scalars and directives.
 */
const inspectorGraphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

function buildForDiff(sdl: string): GraphQLSchema {
  return inspectorGraphql.buildSchema(`${appSyncBuiltinsSDL}\n${sdl}`);
}

export async function checkSchemaChanges(input: SchemaCheckInput): Promise<SchemaCheckResult> {
  const found: Change[] = await diff(buildForDiff(input.released), buildForDiff(input.current));
  const key = (change: { type: string; path: string }) => `${change.type} ${change.path}`;
  const acknowledged = new Map(input.acknowledgements.map((entry) => [key(entry), entry]));
  const changes = found.map((change): SchemaChange => {
    const level = LEVELS[change.criticality.level];
    const described = { type: String(change.type), path: change.path ?? '', message: change.message, level };
    const acknowledgement = level === 'breaking' ? acknowledged.get(key(described)) : undefined;
    return acknowledgement ? { ...described, acknowledgement } : described;
  });
  const breaking = new Set(changes.filter((change) => change.level === 'breaking').map(key));
  const unacknowledged = changes.filter((change) => change.level === 'breaking' && !change.acknowledgement);
  const stale = input.acknowledgements.filter((entry) => !breaking.has(key(entry)));
  return { changes, unacknowledged, stale, ok: unacknowledged.length === 0 && stale.length === 0 };
}

/** Reads and validates the acknowledgements file: a JSON array of `{ type, path, reason }`. */
export function readAcknowledgements(file = acknowledgementsFile): Acknowledgement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not readable JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${file}: must be a JSON array of { "type", "path", "reason" }`);
  return parsed.map((entry: unknown, index) => {
    const { type, path, reason } = (entry ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || typeof path !== 'string' || typeof reason !== 'string' || reason.trim().length < 10) {
      throw new Error(
        `${file}: entry ${index} must be { "type": "<change type>", "path": "<Type.field>", "reason": "<why clients will not break, 10+ characters>" }`,
      );
    }
    return { type, path, reason };
  });
}

export interface SchemaCheckPaths {
  readonly schema?: string;
  readonly released?: string;
  readonly acknowledgements?: string;
}

/** The check on files: `schema/` (or `paths.schema`) against `schema/released/`. */
export async function checkSchemaFiles(paths: SchemaCheckPaths = {}): Promise<SchemaCheckResult> {
  return checkSchemaChanges({
    current: loadSchemaSDL(paths.schema ?? schemaDirectory),
    released: loadSchemaSDL(paths.released ?? releasedSchemaDirectory),
    acknowledgements: readAcknowledgements(paths.acknowledgements ?? acknowledgementsFile),
  });
}

/** The report `npm run schema:check` prints: every change by level, then what fails and why. */
export function formatSchemaCheck(result: SchemaCheckResult): string {
  const relative = (file: string) => file.replace(`${repositoryRoot}/`, '');
  const lines = [`schema:check: ${relative(schemaDirectory)}/ against ${relative(releasedSchemaDirectory)}/`];
  for (const level of ['breaking', 'dangerous', 'safe'] as const) {
    const ofLevel = result.changes.filter((change) => change.level === level);
    if (ofLevel.length === 0) continue;
    lines.push(`${level} (${ofLevel.length}):`);
    for (const change of ofLevel) {
      const mark = level !== 'breaking' ? '-' : change.acknowledgement ? 'acknowledged' : 'NOT ACKNOWLEDGED';
      lines.push(`  ${mark} ${change.type} ${change.path}: ${change.message}`);
      if (change.acknowledgement) lines.push(`      reason: ${change.acknowledgement.reason}`);
    }
  }
  if (result.changes.length === 0) lines.push('no changes since the released schema');
  for (const entry of result.stale)
    lines.push(
      `stale acknowledgement: ${entry.type} ${entry.path} is not a breaking change now (remove it from ${relative(acknowledgementsFile)})`,
    );
  if (result.unacknowledged.length > 0) {
    lines.push(
      `FAILED: ${result.unacknowledged.length} breaking change(s) not acknowledged. Keep the old field (deprecate it) or, if no client can break, add`,
      `  { "type": "<type>", "path": "<path>", "reason": "<why>" } to ${relative(acknowledgementsFile)}`,
    );
  } else if (!result.ok) lines.push('FAILED: stale acknowledgements');
  else lines.push('OK');
  return lines.join('\n');
}
