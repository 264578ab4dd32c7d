import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  GraphQLError,
  Kind,
  buildSchema,
  graphql,
  parse,
  parseValue as parseValueLiteral,
  print,
  type DirectiveDefinitionNode,
  type GraphQLSchema,
} from 'graphql';
import { appSyncBuiltinsSDL, attachAwsScalars, awsScalars, type AwsScalarName } from '../../declarations/scalars.js';

interface Examples {
  /** Inputs accepted unchanged from variables and string literals. */
  readonly valid: readonly (string | number)[];
  /** Well-kinded values that AppSync rejects. */
  readonly invalid: readonly (string | number)[];
  /** Values of the wrong JSON kind for a variable. */
  readonly wrongKind: readonly unknown[];
  /** GraphQL literals of the wrong kind. */
  readonly wrongLiterals: readonly string[];
}

const examples: Record<AwsScalarName, Examples> = {
  AWSDate: {
    valid: [
      '1970-01-01',
      '2024-02-29',
      '2000-02-29',
      '1970-01-01Z',
      '1970-01-01-07:00',
      '1970-01-01+05:30',
      '1970-01-01+05:30:15',
      '9999-12-31',
    ],
    invalid: [
      '2024-02-30',
      '2023-02-29',
      '1900-02-29',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-01-00',
      '2024-1-01',
      '24-01-01',
      '2024/01/01',
      '2024-01-01T00:00Z',
      '2024-01-01+24:00',
      '2024-01-01+05',
      '2024-01-01z',
      ' 2024-01-01',
      '',
    ],
    wrongKind: [20240101, true, null, { year: 2024 }, ['2024-01-01']],
    wrongLiterals: ['20240101', '2024.0', 'true', 'SOME_ENUM', '["2024-01-01"]'],
  },
  AWSTime: {
    valid: [
      '12:30',
      '12:30Z',
      '12:30:24',
      '12:30:24-07:00',
      '12:30:24.500+05:30',
      '00:00:00.1',
      '23:59:59.123456789',
      '23:59:59.999Z',
      '08:00+01:00:30',
    ],
    invalid: [
      '24:00',
      '12:60',
      '12:30:60',
      '12:30:24.1234567890',
      '12:30.5',
      '1:30',
      '12',
      '12:30+5:00',
      '12:30+05:60',
      '12:30:24.',
      'T12:30',
      'noon',
    ],
    wrongKind: [1230, false, { h: 12 }],
    wrongLiterals: ['1230', '12.5', 'false'],
  },
  AWSDateTime: {
    valid: [
      '1970-01-01T00:00Z',
      '2024-02-29T23:59:59Z',
      '2024-06-01T12:30:24.5+05:30',
      '2024-06-01T12:30:24.123456789-07:00',
      '2024-06-01T12:30:24.123+05:30:15',
      new Date(0).toISOString(),
    ],
    invalid: [
      '2024-06-01T12:30:24',
      '2024-06-01T12:30',
      '2024-06-01',
      '2023-02-29T00:00Z',
      '2024-06-31T00:00Z',
      '2024-06-01T24:00Z',
      '2024-06-01T12:61Z',
      '2024-06-01 12:30Z',
      '2024-06-01t12:30Z',
      '2024-06-01T12:30:24.1234567890Z',
      '2024-06-01T12:30+25:00',
    ],
    wrongKind: [0, Date.UTC(2024, 0, 1)],
    wrongLiterals: ['0', '1.5', 'NOW', '{ iso: "2024-01-01T00:00Z" }'],
  },
  AWSTimestamp: {
    valid: [0, 1_700_000_000, -86_400, 4_102_444_800, Number.MAX_SAFE_INTEGER],
    invalid: [1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY],
    wrongKind: ['1700000000', true, { seconds: 1 }],
    wrongLiterals: ['"1700000000"', '1.5', '1e3', '9007199254740993', 'true'],
  },
  AWSEmail: {
    valid: [
      'username@example.com',
      'first.last+tag@sub.example.co.uk',
      'user@localhost',
      "o'brien@example.com",
      'a_b-c@ex-ample.org',
      'x@1.2.3.4',
    ],
    invalid: [
      'not-an-email',
      '@example.com',
      'user@',
      'user@@example.com',
      'user name@example.com',
      'user@exam ple.com',
      'user@example..com',
      '.user@example.com',
      'user.@example.com',
      'user@-example.com',
      'user@example-.com',
      'user@.example.com',
      'user@example.com.',
      ' user@example.com',
      '',
    ],
    wrongKind: [42, ['user@example.com']],
    wrongLiterals: ['42', 'user', '["a@b.c"]'],
  },
  AWSJSON: {
    valid: ['{"upvotes":10}', '[1,2,3]', '"AWSJSON example string"', '1', 'true', 'null', ' { "a" : [ {} ] } '],
    invalid: ['{a: 1}', "{'a': 1}", 'Unquoted string', '', '{"a":1,}', '[1,2', 'undefined'],
    wrongKind: [{ upvotes: 10 }, [1, 2, 3], 1, true],
    wrongLiterals: ['{ upvotes: 10 }', '[1, 2]', '1', 'true'],
  },
  AWSPhone: {
    valid: [
      '5089180293',
      '508 918 0293',
      '508-918-0293',
      '(508) 918-0293',
      '+1 (508) 918-0293',
      '+44 20 7946 0958',
      '+442079460958',
      '+1-508-918-0293',
      '112',
      '+861012345678901',
    ],
    invalid: [
      '12',
      '+',
      '',
      'phone',
      '508.918.0293',
      '508  918',
      '508--918',
      '-508 918',
      '508 918-',
      '+ 1 508',
      '++1 508',
      '(508 918',
      '508) 918',
      '((508)) 918',
      '() 918 0293',
      '+1234567890123456',
      '508 918 0293 ext 5',
      '５０８９１８０２９３',
    ],
    wrongKind: [5089180293, { number: '508' }],
    wrongLiterals: ['5089180293', 'PHONE'],
  },
  AWSURL: {
    valid: [
      'https://example.com',
      'http://localhost/',
      'http://localhost:4000/graphql?x=1#frag',
      'https://example.com/a/b?next=https://other.example/',
      'mailto:user@example.com',
      'ftp://files.example.com/pub/file.txt',
      'urn:isbn:0451450523',
      'custom+scheme://host/path',
    ],
    invalid: [
      'example.com',
      '/relative/path',
      '//example.com/x',
      'https://',
      'http://example.com//double',
      'https://exa mple.com',
      ' https://example.com',
      'https://example.com/\t',
      'mailto:',
      '',
      'not a url',
    ],
    wrongKind: [42, { href: 'https://example.com' }],
    wrongLiterals: ['42', 'HTTPS'],
  },
  AWSIPAddress: {
    valid: [
      '127.0.0.1',
      '127.0.0.1/8',
      '0.0.0.0/0',
      '255.255.255.255/32',
      '::1',
      '2001:db8::/32',
      '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
      '::ffff:192.0.2.1',
      '2001:db8::1/128',
    ],
    invalid: [
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '127.0.0.1/33',
      '127.0.0.1/',
      '127.0.0.1/-1',
      '127.0.0.1/8/8',
      '2001:db8::/129',
      '2001:db8:::1',
      'localhost',
      '01.2.3.4x',
      '',
    ],
    wrongKind: [2130706433, ['127.0.0.1']],
    wrongLiterals: ['2130706433', 'LOCALHOST'],
  },
};

const scalarNames = Object.keys(examples) as AwsScalarName[];

/** A GraphQL literal carrying the example: numeric literals for numbers, strings otherwise. */
function literalFor(value: string | number): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  return JSON.stringify(value);
}

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('awsScalars', () => {
  it('implements exactly the AWS scalars, each under its own name', () => {
    expect(Object.keys(awsScalars).sort()).toEqual([...scalarNames].sort());
    for (const name of scalarNames) expect(awsScalars[name].name).toBe(name);
  });

  for (const name of scalarNames) {
    describe(name, () => {
      const scalar = awsScalars[name];
      const { valid, invalid, wrongKind, wrongLiterals } = examples[name];

      it.each(valid.map((v) => [v]))('accepts %j unchanged', (value) => {
        expect(scalar.parseValue(value)).toBe(value);
        expect(scalar.parseLiteral(parseValueLiteral(literalFor(value)))).toBe(value);
        expect(scalar.serialize(value)).toBe(value);
      });

      it.each(invalid.map((v) => [v]))('rejects %j naming the scalar and the value', (value) => {
        const fromVariable = captureError(() => scalar.parseValue(value));
        expect(fromVariable).toBeInstanceOf(GraphQLError);
        expect((fromVariable as GraphQLError).message).toMatch(new RegExp(`^Invalid ${name} value: `));
        if (typeof value === 'string') {
          expect((fromVariable as GraphQLError).message).toContain(JSON.stringify(value));
        }

        const node = parseValueLiteral(literalFor(value));
        const fromLiteral = captureError(() => scalar.parseLiteral(node));
        expect(fromLiteral).toBeInstanceOf(GraphQLError);
        expect((fromLiteral as GraphQLError).message).toMatch(new RegExp(`^Invalid ${name} value: `));
        // Keeping the node lets graphql-js point at the offending literal.
        expect((fromLiteral as GraphQLError).nodes).toEqual([node]);

        expect(() => scalar.serialize(value)).toThrow(`Invalid ${name} value`);
      });

      it.each(wrongKind.map((v) => [v]))('rejects the wrong kind of variable value %j', (value) => {
        expect(() => scalar.parseValue(value)).toThrow(new RegExp(`^Invalid ${name} value: .*; expected`));
      });

      it.each(wrongLiterals.map((v) => [v]))('rejects the wrong kind of literal %s', (literal) => {
        expect(() => scalar.parseLiteral(parseValueLiteral(literal))).toThrow(`Invalid ${name} value: `);
      });
    });
  }

  it('names the rejected value in the message exactly', () => {
    expect(() => awsScalars.AWSEmail.parseValue('not-an-email')).toThrow(new GraphQLError('Invalid AWSEmail value: "not-an-email"'));
    expect(() => awsScalars.AWSDate.parseLiteral(parseValueLiteral('"2024-02-30"'))).toThrow('Invalid AWSDate value: "2024-02-30"');
    expect(() => awsScalars.AWSDate.parseLiteral(parseValueLiteral('20240101'))).toThrow(
      'Invalid AWSDate value: 20240101; expected a string',
    );
  });

  describe('AWSJSON serialize', () => {
    it('passes JSON text through and encodes other values', () => {
      expect(awsScalars.AWSJSON.serialize('{"a":1}')).toBe('{"a":1}');
      expect(awsScalars.AWSJSON.serialize({ a: [1, 'x', null] })).toBe('{"a":[1,"x",null]}');
      expect(awsScalars.AWSJSON.serialize([1, 2])).toBe('[1,2]');
      expect(awsScalars.AWSJSON.serialize(3)).toBe('3');
      expect(awsScalars.AWSJSON.serialize(false)).toBe('false');
      expect(awsScalars.AWSJSON.serialize(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    });

    it('rejects strings that are not JSON rather than quoting them', () => {
      expect(() => awsScalars.AWSJSON.serialize('plain text')).toThrow('Invalid AWSJSON value: "plain text"');
    });

    it('rejects values JSON cannot encode', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(() => awsScalars.AWSJSON.serialize(cyclic)).toThrow(/^Invalid AWSJSON value: .*cannot be encoded as JSON/);
      expect(() => awsScalars.AWSJSON.serialize(10n)).toThrow('Invalid AWSJSON value: 10n');
      expect(() => awsScalars.AWSJSON.serialize(() => 1)).toThrow('cannot be encoded as JSON');
    });
  });
});

describe('appSyncBuiltinsSDL', () => {
  const definitions = parse(appSyncBuiltinsSDL).definitions;
  const directives = definitions.filter((d): d is DirectiveDefinitionNode => d.kind === Kind.DIRECTIVE_DEFINITION);

  it('is the content of declarations/appsync-builtins.graphql', () => {
    const file = readFileSync(new URL('../../declarations/appsync-builtins.graphql', import.meta.url), 'utf8');
    expect(appSyncBuiltinsSDL).toBe(file);
  });

  it('declares every AWS scalar that has an implementation, and nothing else but directives', () => {
    const scalars = definitions.filter((d) => d.kind === Kind.SCALAR_TYPE_DEFINITION).map((d) => d.name.value);
    expect(scalars.sort()).toEqual(Object.keys(awsScalars).sort());
    expect(definitions.length).toBe(scalars.length + directives.length);
  });

  it('defines the AppSync directives with their arguments and locations', () => {
    const summary = Object.fromEntries(
      directives.map((d) => [
        d.name.value,
        {
          args: (d.arguments ?? []).map((a) => `${a.name.value}: ${print(a.type)}`),
          locations: d.locations.map((l) => l.value).sort(),
          repeatable: d.repeatable,
        },
      ]),
    );
    const auth = { args: [], locations: ['FIELD_DEFINITION', 'OBJECT'], repeatable: false };
    expect(summary).toEqual({
      aws_api_key: auth,
      aws_iam: auth,
      aws_oidc: auth,
      aws_lambda: auth,
      aws_cognito_user_pools: { ...auth, args: ['cognito_groups: [String]'] },
      aws_auth: { args: ['cognito_groups: [String]'], locations: ['FIELD_DEFINITION'], repeatable: false },
      aws_subscribe: { args: ['mutations: [String]'], locations: ['FIELD_DEFINITION'], repeatable: false },
    });
  });

  it('builds a schema together with a user schema that uses the scalars and directives', () => {
    const schema = buildSchema(`
      type Product @aws_api_key @aws_cognito_user_pools @aws_iam @aws_oidc @aws_lambda {
        id: ID!
        createdAt: AWSDateTime!
        contact: AWSEmail @aws_auth(cognito_groups: ["admin"])
      }
      type Query { product(id: ID!): Product @aws_cognito_user_pools(cognito_groups: ["admin", "staff"]) }
      type Mutation { updateProduct(id: ID!): Product @aws_iam }
      type Subscription { onUpdateProduct: Product @aws_subscribe(mutations: ["updateProduct"]) }
      ${appSyncBuiltinsSDL}
    `);
    expect(schema.getDirective('aws_subscribe')?.args.map((a) => a.name)).toEqual(['mutations']);
    expect(schema.getType('AWSDateTime')?.toString()).toBe('AWSDateTime');
  });

  it('rejects directives in places AppSync does not allow them', () => {
    expect(() => buildSchema(`type Query @aws_subscribe(mutations: ["x"]) { a: Int } ${appSyncBuiltinsSDL}`)).toThrow(
      'Directive "@aws_subscribe" may not be used on OBJECT.',
    );
    expect(() => buildSchema(`type Query @aws_auth(cognito_groups: ["x"]) { a: Int } ${appSyncBuiltinsSDL}`)).toThrow(
      'Directive "@aws_auth" may not be used on OBJECT.',
    );
  });

  it('conflicts with a user schema that redeclares a built-in, as AppSync does', () => {
    expect(() => buildSchema(`scalar AWSDate type Query { a: AWSDate } ${appSyncBuiltinsSDL}`)).toThrow(
      'There can be only one type named "AWSDate".',
    );
  });
});

describe('attachAwsScalars in a real graphql() call', () => {
  const received: unknown[] = [];

  function buildEchoSchema(): GraphQLSchema {
    const fields = scalarNames.map((name) => `echo${name}(value: ${name}!): ${name}`).join('\n');
    return attachAwsScalars(buildSchema(`type Query {\n${fields}\n}\n${appSyncBuiltinsSDL}`));
  }

  const schema = buildEchoSchema();
  const rootValue = Object.fromEntries(
    scalarNames.map((name) => [
      `echo${name}`,
      (args: { value: unknown }) => {
        received.push(args.value);
        return args.value;
      },
    ]),
  );

  async function run(source: string, variableValues?: Record<string, unknown>) {
    received.length = 0;
    return graphql({ schema, source, rootValue, variableValues });
  }

  it('returns the schema it was given, with every AWS scalar replaced', () => {
    const built = buildSchema(`type Query { a: Int }\n${appSyncBuiltinsSDL}`);
    const email = built.getType('AWSEmail') as typeof awsScalars.AWSEmail;
    // buildSchema alone gives custom scalars graphql-js's accept-anything default.
    expect(email.parseValue('x')).toBe('x');
    expect(attachAwsScalars(built)).toBe(built);
    expect(() => email.parseValue('x')).toThrow('Invalid AWSEmail value: "x"');
    for (const name of scalarNames) {
      const type = built.getType(name) as typeof awsScalars.AWSEmail;
      expect(type.parseValue).toBe(awsScalars[name].parseValue);
      expect(type.parseLiteral).toBe(awsScalars[name].parseLiteral);
      expect(type.serialize).toBe(awsScalars[name].serialize);
    }
  });

  it('refuses a schema that uses an AWS scalar name for another kind of type', () => {
    expect(() => attachAwsScalars(buildSchema('type AWSEmail { a: Int } type Query { e: AWSEmail }'))).toThrow(
      'AWSEmail is defined as a non-scalar type',
    );
  });

  for (const name of scalarNames) {
    const [good] = examples[name].valid;
    const [bad] = examples[name].invalid;

    it(`${name}: a valid variable reaches the resolver unchanged and is returned`, async () => {
      const result = await run(`query ($v: ${name}!) { echo${name}(value: $v) }`, { v: good });
      expect(result.errors).toBeUndefined();
      expect(received).toEqual([good]);
      expect(result.data).toEqual({ [`echo${name}`]: good });
    });

    it(`${name}: a valid literal reaches the resolver unchanged`, async () => {
      const result = await run(`{ echo${name}(value: ${literalFor(good!)}) }`);
      expect(result.errors).toBeUndefined();
      expect(received).toEqual([good]);
    });

    it(`${name}: an invalid variable is a coercion error naming the scalar`, async () => {
      const result = await run(`query ($v: ${name}!) { echo${name}(value: $v) }`, { v: bad });
      expect(result.data).toBeUndefined();
      expect(received).toEqual([]);
      expect(result.errors).toHaveLength(1);
      expect(
        result.errors?.[0]?.message.startsWith(
          `Variable "$v" got invalid value ${JSON.stringify(bad)}; Invalid ${name} value: ${JSON.stringify(bad)}`,
        ),
      ).toBe(true);
    });

    it(`${name}: an invalid literal is a validation error naming the scalar`, async () => {
      const result = await run(`{ echo${name}(value: ${literalFor(bad!)}) }`);
      expect(result.data).toBeUndefined();
      expect(received).toEqual([]);
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]?.message).toMatch(new RegExp(`^Invalid ${name} value: `));
      expect(result.errors?.[0]?.locations).toEqual([{ line: 1, column: 15 + name.length }]);
    });
  }

  it('rejects an Int literal and a number variable for AWSDate', async () => {
    const literal = await run('{ echoAWSDate(value: 20240101) }');
    expect(literal.errors?.map((e) => e.message)).toEqual(['Invalid AWSDate value: 20240101; expected a string']);
    const variable = await run('query ($v: AWSDate!) { echoAWSDate(value: $v) }', { v: 20240101 });
    expect(variable.errors?.map((e) => e.message)).toEqual([
      'Variable "$v" got invalid value 20240101; Invalid AWSDate value: 20240101; expected a string',
    ]);
  });

  it('gives resolvers AWSJSON arguments as the original JSON text', async () => {
    const text = '{"upvotes": 10, "tags": ["a"]}';
    const result = await run('query ($v: AWSJSON!) { echoAWSJSON(value: $v) }', { v: text });
    expect(result.errors).toBeUndefined();
    expect(received).toEqual([text]);
    expect(typeof received[0]).toBe('string');
  });

  it('rejects an object variable for AWSJSON', async () => {
    const result = await run('query ($v: AWSJSON!) { echoAWSJSON(value: $v) }', { v: { upvotes: 10 } });
    expect(result.errors?.[0]?.message).toBe(
      'Variable "$v" got invalid value { upvotes: 10 }; Invalid AWSJSON value: {"upvotes":10}; expected a string containing JSON',
    );
  });

  it('reports a resolver result AppSync could not serialize as a field error', async () => {
    const bad = attachAwsScalars(buildSchema(`type Query { when: AWSDateTime, data: AWSJSON }\n${appSyncBuiltinsSDL}`));
    const result = await graphql({
      schema: bad,
      source: '{ when data }',
      rootValue: { when: '2024-06-01T12:00', data: { ok: true } },
    });
    expect(result.data).toEqual({ when: null, data: '{"ok":true}' });
    expect(result.errors?.map((e) => [e.message, e.path])).toEqual([['Invalid AWSDateTime value: "2024-06-01T12:00"', ['when']]]);
  });
});
