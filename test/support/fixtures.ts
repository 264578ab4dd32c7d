import { randomBytes } from 'node:crypto';
import type { AppSyncIdentity, AppSyncIdentityCognito, AppSyncIdentityIAM, AppSyncIdentityLambda } from 'aws-lambda';
import { expect } from 'vitest';
import { CreateProductDocument, type CreateProductInput, type CreateProductMutation } from '../../generated/client/graphql.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import type { Caller } from '../../local/appsync/field-authorization.js';
import type { ApiClient, Auth } from './local-stack.js';

/**
 * Test data every suite builds the same way: products created through the API,
 * the event AppSync sends a direct Lambda resolver, and who is calling (the
 * `Caller` field authorization checks, the `identity` a resolver receives).
 * Nothing here starts anything; `ApiClient` comes from ./local-stack.ts.
 */

// ---------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------

/** The product `createProduct` answers with (operations/catalog.graphql's ProductFields). */
export type CreatedProduct = CreateProductMutation['createProduct'];

let productCounter = 0;
// With the counter, what makes a SKU unique in this test process: a file that changed the environment gets
// fresh module instances (support/file-isolation.ts), and the counter of the new instance starts over.
const instance = randomBytes(3).toString('hex');

/**
 * A valid `CreateProductInput`: a SKU unique in this test process, USD 10.00,
 * 10 in stock, category `fixtures`. Override what the test asserts on.
 */
export function productInput(overrides: Partial<CreateProductInput> = {}): CreateProductInput {
  productCounter += 1;
  return {
    sku: `T-${process.pid}-${instance}-${productCounter}`,
    name: `Test product ${productCounter}`,
    priceCents: 1000,
    currency: 'USD',
    category: 'fixtures',
    stock: 10,
    ...overrides,
  };
}

/**
 * Creates a product through the API (as the admin unless `auth` says otherwise),
 * asserts the mutation succeeded and returns the created product (`.id` for its id).
 */
export async function createProduct(
  api: ApiClient,
  overrides: Partial<CreateProductInput> = {},
  auth: Auth = api.admin(),
): Promise<CreatedProduct> {
  const res = await api.request(CreateProductDocument, { input: productInput(overrides) }, auth);
  expect(res.errors, 'createProduct fixture').toBeUndefined();
  return res.data!.createProduct;
}

// ---------------------------------------------------------------------------
// Callers and identities, as local/appsync/authentication.ts produces them
// ---------------------------------------------------------------------------

/** Who is calling: what field authorization checks (`caller`) and what resolvers receive (`identity`). */
/**
 * A product as the catalog function answers a field with it (the schema's Product shape), for unit tests
 * whose fake functions stand in for the real ones.
 */
export function productValue(id: string) {
  return {
    id,
    sku: 's',
    name: `n-${id}`,
    description: null,
    priceCents: 1,
    currency: 'USD',
    category: 'c',
    stock: 1,
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    rating: { count: 0, average: null },
  };
}

/**
 * An order as the orders function answers a field with it (the schema's Order shape, customer `u1`), with
 * `items` as its lines, for unit tests whose fake functions stand in for the real ones.
 */
export function orderValue(items: ReadonlyArray<{ productId: string; quantity: number; unitPriceCents: number }> = []) {
  return {
    id: 'o',
    customerId: 'u1',
    status: 'PLACED',
    items: [...items],
    totalCents: items.reduce((total, line) => total + line.quantity * line.unitPriceCents, 0),
    currency: 'USD',
    clientToken: 't',
    contactEmail: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  };
}

export interface Who<TIdentity extends AppSyncIdentity = AppSyncIdentity> {
  readonly caller: Caller;
  readonly identity: TIdentity;
}

/** An API key caller: AppSync sends resolvers no identity at all (`null`). */
export function apiKeyCaller(): Who<null> {
  return { caller: { mode: 'API_KEY', groups: [] }, identity: null };
}

export interface CognitoIdentityInit {
  readonly username?: string;
  readonly sub?: string;
  readonly groups?: readonly string[];
  readonly issuer?: string;
  readonly sourceIp?: readonly string[];
  readonly claims?: Record<string, unknown>;
}

/**
 * A Cognito user-pool identity as AppSync sends it: `groups` is `null` when
 * the user is in none, `defaultAuthStrategy` is `ALLOW`, `claims` are the
 * verified token's.
 */
export function cognitoIdentity(init: CognitoIdentityInit = {}): AppSyncIdentityCognito {
  const username = init.username ?? 'user-1';
  const sub = init.sub ?? username;
  const groups = [...(init.groups ?? [])];
  const issuer = init.issuer ?? 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local';
  return {
    sub,
    issuer,
    username,
    claims: init.claims ?? {
      sub,
      iss: issuer,
      'cognito:username': username,
      token_use: 'id',
      ...(groups.length > 0 ? { 'cognito:groups': groups } : {}),
    },
    sourceIp: [...(init.sourceIp ?? ['127.0.0.1'])],
    defaultAuthStrategy: 'ALLOW',
    groups: groups.length > 0 ? groups : null,
  };
}

/** A signed-in user-pool caller, in `groups`. */
export function userPoolCaller(init: CognitoIdentityInit = {}): Who<AppSyncIdentityCognito> {
  return { caller: { mode: 'AMAZON_COGNITO_USER_POOLS', groups: [...(init.groups ?? [])] }, identity: cognitoIdentity(init) };
}

export interface IamIdentityInit {
  readonly accountId?: string;
  readonly accessKeyId?: string;
  readonly userArn?: string;
  readonly sourceIp?: readonly string[];
}

/** An IAM (SigV4) identity of an IAM user, not a Cognito identity pool: the pool fields are `null`, as AppSync sends them. */
export function iamIdentity(init: IamIdentityInit = {}): AppSyncIdentityIAM {
  const accountId = init.accountId ?? '111122223333';
  const absent = null as unknown as string;
  return {
    accountId,
    cognitoIdentityPoolId: absent,
    cognitoIdentityId: absent,
    sourceIp: [...(init.sourceIp ?? ['127.0.0.1'])],
    username: init.accessKeyId ?? 'AKIAIOSFODNN7EXAMPLE',
    userArn: init.userArn ?? `arn:aws:iam::${accountId}:user/local-backend`,
    cognitoIdentityAuthType: absent,
    cognitoIdentityAuthProvider: absent,
  };
}

/** An IAM caller (AWS_IAM mode). */
export function iamCaller(init: IamIdentityInit = {}): Who<AppSyncIdentityIAM> {
  return { caller: { mode: 'AWS_IAM', groups: [] }, identity: iamIdentity(init) };
}

export interface LambdaCallerInit {
  /** What the authorizer granted as `resolverContext`; resolvers see `identity.resolverContext`. */
  readonly resolverContext?: Record<string, unknown>;
  /** The authorizer's `deniedFields`, as `Type.field` coordinates. */
  readonly deniedFields?: readonly string[];
}

/** A Lambda authorizer identity: only the `resolverContext` the authorizer returned. */
export function lambdaIdentity(resolverContext: Record<string, unknown> = { partnerId: 'acme' }): AppSyncIdentityLambda {
  return { resolverContext };
}

/** A caller a Lambda authorizer (AWS_LAMBDA mode) admitted, e.g. a partner with `Product.stock` denied. */
export function lambdaCaller(init: LambdaCallerInit = {}): Who<AppSyncIdentityLambda> {
  const deniedFields = init.deniedFields ?? [];
  return {
    caller: { mode: 'AWS_LAMBDA', groups: [], ...(deniedFields.length > 0 ? { deniedFields: new Set(deniedFields) } : {}) },
    identity: lambdaIdentity(init.resolverContext),
  };
}

// ---------------------------------------------------------------------------
// AppSync's direct Lambda resolver event (lib/appsync/resolver-event.ts)
// ---------------------------------------------------------------------------

export interface ResolverEventInit<TSource, TArgs> {
  readonly parentTypeName: string;
  readonly fieldName: string;
  readonly arguments?: TArgs;
  /** The parent object; `null` for root fields (Query, Mutation, Subscription). */
  readonly source?: TSource;
  /** `null` (API key) unless given: use cognitoIdentity(), iamIdentity() or lambdaIdentity(). */
  readonly identity?: AppSyncIdentity;
  readonly headers?: Record<string, string | undefined>;
  readonly domainName?: string | null;
  readonly variables?: Record<string, unknown>;
  /** AppSync's flattened selection (`rating`, `rating/count`); `['id']` unless given. */
  readonly selectionSetList?: readonly string[];
  /** Derived from `selectionSetList` unless given. */
  readonly selectionSetGraphQL?: string;
  readonly prev?: { result: Record<string, unknown> } | null;
  readonly stash?: Record<string, unknown>;
}

/**
 * The event AppSync sends a direct Lambda resolver (`Invoke`; an array of them
 * is a `BatchInvoke`), with every field AppSync sets. Only the field's
 * coordinates are required.
 */
export function resolverEvent<TSource = unknown, TArgs = Record<string, unknown>>(
  init: ResolverEventInit<TSource, TArgs>,
): ResolverEvent<TSource, TArgs> {
  const selectionSetList = [...(init.selectionSetList ?? ['id'])];
  return {
    arguments: init.arguments ?? ({} as TArgs),
    identity: init.identity ?? null,
    source: init.source ?? (null as TSource),
    request: { headers: { ...init.headers }, domainName: init.domainName ?? null },
    info: {
      parentTypeName: init.parentTypeName,
      fieldName: init.fieldName,
      variables: { ...init.variables },
      selectionSetList,
      selectionSetGraphQL: init.selectionSetGraphQL ?? selectionSetGraphQL(selectionSetList),
    },
    prev: init.prev ?? null,
    stash: { ...init.stash },
  };
}

/** `['id', 'rating', 'rating/count']` → `'{ id rating { count } }'`, as AppSync renders the selection. */
function selectionSetGraphQL(list: readonly string[]): string {
  interface Node {
    readonly children: Map<string, Node>;
  }
  const root: Node = { children: new Map() };
  for (const path of list) {
    let node = root;
    for (const name of path.split('/')) {
      const child = node.children.get(name) ?? { children: new Map<string, Node>() };
      node.children.set(name, child);
      node = child;
    }
  }
  const print = (node: Node): string =>
    `{ ${[...node.children].map(([name, child]) => (child.children.size > 0 ? `${name} ${print(child)}` : name)).join(' ')} }`;
  return root.children.size > 0 ? print(root) : '';
}
