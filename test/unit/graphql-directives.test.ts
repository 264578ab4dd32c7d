import { isObjectType, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { subscriptionTriggers } from '../../cost/operations.js';
import { FieldAuthorization } from '../../local/appsync/field-authorization.js';
import { AUTH_DIRECTIVE_MODES, authRules, subscribeMutations } from '../../local/graphql/directives.js';
import { subscriptionsByMutation } from '../../local/realtime/publisher.js';

const storefront = buildAppSyncSchema();
const base = 'type T { id: ID! } type U { id: ID! } type Query { t: T } type Mutation { makeT: T makeT2: T! makeU: U }';

describe('subscribeMutations (@aws_subscribe)', () => {
  it('reads the storefront schema: every subscription field, with the mutations that publish to it', () => {
    expect(Object.fromEntries(subscribeMutations(storefront))).toEqual({
      onProductUpdated: ['updateProduct', 'adjustStock'],
      onOrderStatusChanged: ['updateOrderStatus', 'cancelOrder'],
      onReviewAdded: ['addReview'],
    });
  });

  it('reads a single name as a one-item list, lists each mutation once, and gives a field without the directive none', () => {
    const schema = buildAppSyncSchema(`${base} type Subscription {
      one: T @aws_subscribe(mutations: "makeT")
      twice: T @aws_subscribe(mutations: ["makeT", "makeT2", "makeT"])
      none: T
    }`);
    expect(Object.fromEntries(subscribeMutations(schema))).toEqual({ one: ['makeT'], twice: ['makeT', 'makeT2'], none: [] });
  });

  it('fails, as AppSync’s schema validation does, on a non-string, an unknown mutation, or another return type', () => {
    expect(() => subscribeMutations(buildAppSyncSchema(`${base} type Subscription { onT: T @aws_subscribe(mutations: [1]) }`))).toThrow(
      /must list mutation names as strings/,
    );
    expect(() =>
      subscribeMutations(buildAppSyncSchema(`${base} type Subscription { onT: T @aws_subscribe(mutations: ["nope"]) }`)),
    ).toThrow(/names nope, which is not a Mutation field/);
    expect(() =>
      subscribeMutations(buildAppSyncSchema(`${base} type Subscription { onT: T @aws_subscribe(mutations: ["makeU"]) }`)),
    ).toThrow(/returns T but makeU returns U/);
  });

  it('is empty without a subscription type', () => {
    expect(subscribeMutations(buildAppSyncSchema(base)).size).toBe(0);
  });
});

/** mutation → subscription pairs, as a sorted list, from either reader. */
function pairsOfPublisher(schema: GraphQLSchema): string[] {
  return [...subscriptionsByMutation(schema)]
    .flatMap(([mutation, fields]) => fields.map((field) => `Mutation.${mutation} -> Subscription.${field}`))
    .sort();
}
function pairsOfCostModel(schema: GraphQLSchema): string[] {
  return [...subscriptionTriggers(schema)].flatMap(([field, mutations]) => mutations.map((mutation) => `${mutation} -> ${field}`)).sort();
}

describe('the cost model and the real-time publisher agree on @aws_subscribe', () => {
  const schemas: Record<string, GraphQLSchema> = {
    storefront,
    // The forms the two readers used to read differently: a single name, a repeated name.
    edge: buildAppSyncSchema(`${base} type Subscription {
      one: T @aws_subscribe(mutations: "makeT")
      twice: T @aws_subscribe(mutations: ["makeT", "makeT2", "makeT"])
      none: T
    }`),
  };

  it.each(Object.keys(schemas))('for the %s schema', (name) => {
    const schema = schemas[name]!;
    expect(pairsOfCostModel(schema)).toEqual(pairsOfPublisher(schema));
    expect(pairsOfPublisher(schema).length).toBeGreaterThan(0);
  });

  it('the storefront pairs', () => {
    expect(pairsOfCostModel(storefront)).toEqual([
      'Mutation.addReview -> Subscription.onReviewAdded',
      'Mutation.adjustStock -> Subscription.onProductUpdated',
      'Mutation.cancelOrder -> Subscription.onOrderStatusChanged',
      'Mutation.updateOrderStatus -> Subscription.onOrderStatusChanged',
      'Mutation.updateProduct -> Subscription.onProductUpdated',
    ]);
    // The cost model lists every subscription field, even one nothing publishes to.
    expect(subscriptionTriggers(schemas['edge']!).get('Subscription.none')).toEqual([]);
  });

  it('and both refuse the same broken directive', () => {
    const broken = buildAppSyncSchema(`${base} type Subscription { onT: T @aws_subscribe(mutations: ["nope"]) }`);
    expect(() => subscriptionTriggers(broken)).toThrow(/not a Mutation field/);
    expect(() => subscriptionsByMutation(broken)).toThrow(/not a Mutation field/);
  });
});

describe('authRules (@aws_* auth directives)', () => {
  const schema = buildAppSyncSchema(`
    type Item @aws_api_key @aws_cognito_user_pools(cognito_groups: ["admin", "staff"]) {
      id: ID!
      secret: String @aws_iam @aws_auth(cognito_groups: ["admin"]) @deprecated
      open: String
    }
    type Query { item: Item @aws_lambda @aws_oidc }
  `);
  const item = schema.getType('Item');
  if (!isObjectType(item)) throw new Error('no Item');

  it('reads each directive’s mode and cognito_groups, in order, ignoring other directives', () => {
    expect(authRules(item)).toEqual([
      { mode: 'API_KEY', groups: null },
      { mode: 'AMAZON_COGNITO_USER_POOLS', groups: ['admin', 'staff'] },
    ]);
    expect(authRules(item.getFields()['secret']!)).toEqual([
      { mode: 'AWS_IAM', groups: null },
      { mode: 'AMAZON_COGNITO_USER_POOLS', groups: ['admin'] },
    ]);
    expect(authRules(item.getFields()['open']!)).toEqual([]);
    expect(authRules(schema.getQueryType()!.getFields()['item']!).map((rule) => rule.mode)).toEqual(['AWS_LAMBDA', 'OPENID_CONNECT']);
    expect(Object.keys(AUTH_DIRECTIVE_MODES).sort()).toEqual([
      'aws_api_key',
      'aws_auth',
      'aws_cognito_user_pools',
      'aws_iam',
      'aws_lambda',
      'aws_oidc',
    ]);
  });

  it('is what FieldAuthorization applies: field rules win, else the type’s, else the default mode', () => {
    const authorization = new FieldAuthorization(schema, 'AWS_IAM');
    expect(authorization.rules('Item', 'secret')).toEqual(authRules(item.getFields()['secret']!));
    expect(authorization.rules('Item', 'open')).toEqual(authRules(item));
    expect(authorization.rules('Query', 'item')).toEqual(authRules(schema.getQueryType()!.getFields()['item']!));
    const plain = buildAppSyncSchema('type Query { x: Int }');
    expect(new FieldAuthorization(plain, 'AWS_IAM').rules('Query', 'x')).toEqual([{ mode: 'AWS_IAM', groups: null }]);
  });
});
