import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { repositoryRoot } from './paths.js';
import { appSyncBuiltinsSDL, attachAwsScalars } from './scalars.js';

export const schemaDirectory = join(repositoryRoot, 'schema');

/**
 * The schema as AppSync receives it: every `schema/*.graphql` file, in name
 * order, joined. The stacks upload exactly this text; the local runtime builds
 * its executable schema from it.
 */
export function loadSchemaSDL(directory = schemaDirectory): string {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(join(directory, file), 'utf8'))
    .join('\n');
}

/** Executable schema with AppSync's implicit scalars and directives, scalars validating as AppSync does. */
export function buildAppSyncSchema(sdl = loadSchemaSDL()): GraphQLSchema {
  return attachAwsScalars(buildSchema(`${appSyncBuiltinsSDL}\n${sdl}`));
}
