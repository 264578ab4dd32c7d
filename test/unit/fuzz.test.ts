import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  aliasFlood,
  badAuth,
  contentLengthLie,
  deepNesting,
  fragmentBomb,
  hostileCase,
  hugeBody,
  invalidJson,
  keepAliveReuse,
  oversizedIds,
  wsHugePayload,
  wsManyStarts,
  HOSTILE_WEIGHTS,
  type FuzzContext,
  type HttpCase,
} from '../../fuzz/generators.js';
import { checkIntegrity, ledgerOp, type IntegrityInput, type LedgerState } from '../../fuzz/integrity.js';
import { Rng, weightedPick } from '../../fuzz/rng.js';
import { parseResponse } from '../../fuzz/send.js';
import { attributeSlowProbes, Tracker, variantOf } from '../../fuzz/tracker.js';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (claims: Record<string, unknown>): string => `${b64url({ alg: 'RS256', kid: 'k' })}.${b64url(claims)}.${'sig'.repeat(10)}`;

const ctx: FuzzContext = {
  host: '127.0.0.1:4000',
  apiKey: 'da2-abcdefghijklmnopqrstuvwxyz',
  adminToken: token({ sub: 'admin', 'cognito:groups': ['admin'] }),
  customerTokens: [token({ sub: 'fuzz-customer-0' }), token({ sub: 'fuzz-customer-1' })],
  partnerToken: `partner-local-partner.${'s'.repeat(40)}`,
  iamAccessKeyId: 'AKIALOCAL0000',
  productIds: ['sample-00001', 'sample-00002'],
};
const SEEDS = Array.from({ length: 25 }, (_, i) => 1000 + i * 7919);

/** Deepest bracket nesting of a text ({ and [ open, } and ] close), strings included. */
function nesting(text: string): number {
  let depth = 0;
  let max = 0;
  for (const char of text) {
    if (char === '{' || char === '[') max = Math.max(max, ++depth);
    else if (char === '}' || char === ']') depth -= 1;
  }
  return max;
}

const queryOf = (c: HttpCase): string => (JSON.parse(c.body) as { query: string }).query;

describe('fuzz generators', () => {
  it('replay the same case for the same seed', () => {
    for (const seed of SEEDS) {
      expect(JSON.stringify(hostileCase(new Rng(seed), ctx))).toBe(JSON.stringify(hostileCase(new Rng(seed), ctx)));
    }
  });

  it('draw every kind, and only the kinds asked for', () => {
    const rng = new Rng(7);
    const seen = new Set(Array.from({ length: 20_000 }, () => weightedPick(rng, HOSTILE_WEIGHTS)));
    expect([...seen].sort()).toEqual(Object.keys(HOSTILE_WEIGHTS).sort());
    for (const kind of Object.keys(HOSTILE_WEIGHTS) as Array<keyof typeof HOSTILE_WEIGHTS>) {
      expect(hostileCase(new Rng(11), ctx, [kind]).kind).toBe(kind);
    }
    const only = new Set(Array.from({ length: 200 }, () => hostileCase(rng, ctx, ['aliasFlood', 'wsManyStarts']).kind));
    expect([...only].sort()).toEqual(['aliasFlood', 'wsManyStarts']);
  });

  it('invalidJson bodies do not parse', () => {
    for (const seed of SEEDS) expect(() => JSON.parse(invalidJson(new Rng(seed), ctx).body), `seed ${seed}`).toThrow();
  });

  it('hugeBody bodies are over 1 MB, as stated', () => {
    for (const seed of SEEDS.slice(0, 8)) {
      const c = hugeBody(new Rng(seed), ctx);
      expect(Buffer.byteLength(c.body)).toBe(c.facts.bytes);
      expect(c.facts.bytes).toBeGreaterThan(1024 * 1024);
    }
  });

  it('fragmentBomb: 25 fragments, each spreading the next twice', () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const c = fragmentBomb(new Rng(seed), ctx);
      const fragments = parse(queryOf(c)).definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
      expect(fragments).toHaveLength(25);
      expect(c.facts).toMatchObject({ fragments: 25, spreadsPerFragment: 2 });
      fragments.slice(0, -1).forEach((fragment, i) => {
        const spreads = fragment.selectionSet.selections.map((s) => (s.kind === Kind.FRAGMENT_SPREAD ? s.name.value : s.kind));
        expect(spreads).toEqual([`F${i + 1}`, `F${i + 1}`]);
      });
    }
  });

  it('aliasFlood has as many distinct aliases as it claims', () => {
    for (const seed of SEEDS.slice(0, 8)) {
      const c = aliasFlood(new Rng(seed), ctx);
      const operation = parse(queryOf(c)).definitions[0] as OperationDefinitionNode;
      const aliases = new Set(operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.alias?.value : undefined)));
      expect(operation.selectionSet.selections).toHaveLength(Number(c.facts.aliases));
      expect(aliases.size).toBe(Number(c.facts.aliases));
    }
  });

  it('deepNesting nests at least as deep as it claims', () => {
    for (const seed of SEEDS) {
      const c = deepNesting(new Rng(seed), ctx);
      expect(nesting(c.body), c.description).toBeGreaterThanOrEqual(Number(c.facts.depth));
    }
  });

  it('oversizedIds send an id of the stated length', () => {
    for (const seed of SEEDS) {
      const c = oversizedIds(new Rng(seed), ctx);
      const variables = (JSON.parse(c.body) as { variables: Record<string, unknown> }).variables;
      const input = variables.input as { clientToken: string; items: Array<{ productId: string }> } | undefined;
      const candidates = [variables.id, variables.category, input?.clientToken, input?.items[0]?.productId].filter(
        (v): v is string => typeof v === 'string',
      );
      expect(
        candidates.map((v) => v.length),
        c.description,
      ).toContain(Number(c.facts.idLength));
      if (c.facts.idLength !== 0) expect(Number(c.facts.idLength)).toBeGreaterThan(1024);
    }
  });

  it('a forged JWT keeps the real signature but not the real claims', () => {
    const forged = Array.from({ length: 400 }, (_, seed) => badAuth(new Rng(seed), ctx)).filter((c) =>
      c.description.startsWith('JWT with claims edited'),
    );
    expect(forged.length).toBeGreaterThan(0);
    for (const c of forged) {
      const [, payload, signature] = c.headers.authorization!.split('.');
      expect(ctx.customerTokens.map((t) => t.split('.')[2])).toContain(signature);
      expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))['cognito:groups']).toEqual(['admin']);
    }
  });

  it('contentLengthLie declares a length other than what it sends', () => {
    for (const seed of SEEDS) {
      const c = contentLengthLie(new Rng(seed), ctx);
      expect(c.facts.declared).not.toBe(c.facts.sent);
      const written = c.steps.map((s) => ('write' in s ? s.write : '')).join('');
      expect(written).toContain(`Content-Length: ${c.facts.declared}`);
    }
  });

  it('keepAliveReuse sends a second request on the same socket after reading the first answer', () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const steps = keepAliveReuse(new Rng(seed), ctx).steps;
      const written = steps.map((s) => ('write' in s ? s.write : '')).join('');
      expect(written.match(/POST \/graphql HTTP\/1\.1/g)).toHaveLength(2);
      expect(steps.filter((s) => 'readResponse' in s)).toHaveLength(2);
    }
  });

  it('WebSocket cases send what they claim', () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const starts = wsManyStarts(new Rng(seed), ctx);
      const many = starts.steps.find((s) => 'sendMany' in s);
      expect(many && 'sendMany' in many ? many.sendMany.count : 0).toBe(starts.facts.starts);
      const huge = wsHugePayload(new Rng(seed), ctx);
      const biggest = Math.max(...huge.steps.map((s) => ('send' in s ? Buffer.byteLength(s.send) : 0)));
      expect(biggest).toBeGreaterThanOrEqual(Number(huge.facts.bytes));
      expect(biggest).toBeGreaterThan(200_000);
    }
  });

  it('ledger ops only book finite numeric deltas', () => {
    const state: LedgerState = {
      productIds: ['p1'],
      customerTokens: ctx.customerTokens,
      adminToken: ctx.adminToken,
      orders: new Map(),
      clientTokens: new Map(),
    };
    const rng = new Rng(3);
    const ops = Array.from({ length: 500 }, () => ledgerOp(rng, state)).filter((op) => op.kind === 'adjustStock');
    expect(ops.length).toBeGreaterThan(50);
    for (const op of ops) {
      const sent = (JSON.parse(op.requests[0]!.body) as { variables: { delta: unknown } }).variables.delta;
      if (op.adjustment) expect(op.adjustment.delta).toBe(sent);
      else expect(typeof sent === 'number' && Number.isFinite(sent)).toBe(false);
    }
  });
});

describe('fuzz integrity arithmetic', () => {
  const balanced: IntegrityInput = {
    products: [
      { id: 'a', initialStock: 100, currentStock: 93 },
      { id: 'b', initialStock: 50, currentStock: 58 },
    ],
    adjustments: [
      { productId: 'a', delta: 5 },
      { productId: 'b', delta: 10 },
      { productId: 'not-ledger', delta: 1_000 },
    ],
    orders: [
      {
        id: 'o1',
        status: 'PLACED',
        items: [
          { productId: 'a', quantity: 10 },
          { productId: 'b', quantity: 2 },
        ],
      },
      {
        id: 'o2',
        status: 'SHIPPED',
        items: [
          { productId: 'a', quantity: 1 },
          { productId: 'a', quantity: 1 },
        ],
      },
      { id: 'o3', status: 'CANCELLED', items: [{ productId: 'a', quantity: 7 }] },
      { id: 'o4', status: 'PLACED', items: [{ productId: 'elsewhere', quantity: 3 }] },
    ],
  };

  it('balances when every unit is accounted for', () => {
    const report = checkIntegrity(balanced);
    expect(report.violations).toEqual([]);
    expect(report.balances).toEqual([
      { productId: 'a', initialStock: 100, adjusted: 5, currentStock: 93, inOpenOrders: 12, imbalance: 0 },
      { productId: 'b', initialStock: 50, adjusted: 10, currentStock: 58, inOpenOrders: 2, imbalance: 0 },
    ]);
  });

  it('catches a planted violation: a cancelled order whose stock came back twice', () => {
    const planted = { ...balanced, products: [{ id: 'a', initialStock: 100, currentStock: 100 }, balanced.products[1]!] };
    const report = checkIntegrity(planted);
    expect(report.violations).toHaveLength(1);
    expect(report.violations[0]).toMatchObject({ productId: 'a' });
    expect(report.violations[0]!.problem).toContain('off by -7');
  });

  it('catches an adjustment that the client saw succeed but the table never got', () => {
    const report = checkIntegrity({ ...balanced, adjustments: [...balanced.adjustments, { productId: 'b', delta: 3 }] });
    expect(report.violations.map((v) => v.productId)).toEqual(['b']);
    expect(report.balances[1]!.imbalance).toBe(3);
  });

  it('flags negative or Int-overflowing stock, out-of-range lines and vanished products', () => {
    const report = checkIntegrity({
      products: [
        { id: 'neg', initialStock: 0, currentStock: -1 },
        { id: 'huge', initialStock: 2 ** 31 - 1, currentStock: 2 ** 31 },
        { id: 'gone', initialStock: 5, currentStock: undefined },
      ],
      adjustments: [{ productId: 'huge', delta: 1 }],
      orders: [{ id: 'o', status: 'PLACED', items: [{ productId: 'neg', quantity: -1 }] }],
    });
    const problems = report.violations.map((v) => `${v.productId}: ${v.problem}`).join('\n');
    expect(problems).toContain('neg: stock is negative');
    expect(problems).toContain('neg: order o holds a line of quantity -1');
    expect(problems).toContain('huge: stock 2147483648 exceeds a GraphQL Int');
    expect(problems).toContain('gone: the product is gone');
  });
});

describe('raw HTTP response parsing', () => {
  it('splits pipelined responses by Content-Length and chunked framing', () => {
    const first = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nhello';
    const second = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n';
    const buffer = Buffer.from(first + second);
    const a = parseResponse(buffer, false);
    expect(a).toMatchObject({ status: 400, length: first.length, body: 'hello' });
    expect(parseResponse(buffer.subarray(a!.length), false)).toMatchObject({ status: 200, length: second.length });
    expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), false)).toBeUndefined();
  });
});

describe('slow-probe attribution', () => {
  it('blames the request that is in flight when probes are slow, not the one that is always in flight', () => {
    const tracker = new Tracker();
    // A request hanging through the whole run, and a short flood at 5.0-5.5 s (times in ms).
    tracker.end(tracker.start(1, 'keepAliveReuse', 'a body that never comes', 0), 10_000);
    tracker.end(tracker.start(2, 'aliasFlood', '1000 aliases of product(…)', 5_000), 5_500);
    // A one-off that happens to overlap one slow probe: a huge lift by chance, but present in one slow probe only.
    tracker.end(tracker.start(3, 'badAuth', 'JWT with alg none', 5_050), 5_060);
    const probes = Array.from({ length: 100 }, (_, i) => {
      const from = i * 100;
      const slow = from >= 5_000 && from < 5_500;
      return { from, to: from + (slow ? 1_200 : 5), slow };
    });
    const attributed = attributeSlowProbes(tracker, probes);
    expect(attributed.map((inFlight) => inFlight[0]?.kind)).toEqual(Array(5).fill('aliasFlood'));
    const first = attributed[0];
    expect(first?.map((s) => s.kind)).toEqual(['aliasFlood', 'badAuth', 'keepAliveReuse']);
    expect(first![1]!.lift).toBeGreaterThan(first![0]!.lift);
    expect(first![0]!.variant).toBe(variantOf('aliasFlood', '1000 aliases of product(…)'));
    expect(first![2]!.lift).toBeCloseTo(1);
  });
});
