/**
 * The API's Lambda authorizer (AWS_LAMBDA mode) as the local stack runs it: the function
 * `declarations/api.ts` names, invoked through its LocalFunction like any other function, so it runs
 * isolated, with its declared timeout and environment.
 */
import { api, lambdaAuthorizerOf } from '../../declarations/api.js';
import { functionNames, functions, type FunctionName } from '../../declarations/functions.js';
import { LambdaAuthorizer } from '../appsync/lambda-authorizer.js';
import { LOCAL_ACCOUNT_ID } from '../identity/local-credentials.js';
import type { LocalFunction } from '../lambda/function-runtime.js';

/** The local API's identity in authorizer events and field ARNs (AppSync API ids are 26 lowercase letters and digits). */
export const LOCAL_API_ID = 'storefrontlocalapi00000000';

/**
 * The authorizer over the local functions; undefined when the API has no AWS_LAMBDA mode. A declaration
 * naming a function that is not an authorizer in the function map is refused at start.
 */
export function localLambdaAuthorizer(
  localFunctions: ReadonlyMap<FunctionName, LocalFunction>,
  region: string,
  log: (line: string) => void,
): LambdaAuthorizer | undefined {
  const declaration = lambdaAuthorizerOf(api);
  if (!declaration) return undefined;
  const name = functionNames.find((candidate) => candidate === declaration.function);
  const fn = name && functions[name].kind === 'authorizer' ? localFunctions.get(name) : undefined;
  if (!fn)
    throw new Error(
      `declarations/api.ts names ${declaration.function} as the Lambda authorizer, but the function map has no such authorizer`,
    );
  return new LambdaAuthorizer({
    declaration,
    apiId: LOCAL_API_ID,
    accountId: LOCAL_ACCOUNT_ID,
    region,
    log,
    // A LocalFunction's result is an InvokeResult (plus its REPORT figures).
    invoke: (event) => fn.invoke(event),
  });
}
