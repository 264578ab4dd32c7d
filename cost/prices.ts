import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../declarations/paths.js';

/** The price list (cost/prices.json): one dated, region-labelled file, so a price change is a one-line diff. */

export const priceKeys = [
  'lambdaRequests',
  'lambdaArm64GbSeconds',
  'appsyncOperations',
  'appsyncRealtimeUpdates',
  'appsyncConnectionMinutes',
  'dynamodbReadRequestUnits',
  'dynamodbWriteRequestUnits',
] as const;

export type PriceKey = (typeof priceKeys)[number];

export interface Price {
  /** USD for `per` units. */
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** Where the figure was read: page, region, variant. */
  readonly source: string;
}

export interface PriceList {
  /** YYYY-MM-DD: prices change; a figure without its date is not a price. */
  readonly asOf: string;
  readonly region: string;
  readonly currency: 'USD';
  readonly note: string;
  readonly prices: Readonly<Record<PriceKey, Price>>;
}

export const pricesFile = join(repositoryRoot, 'cost', 'prices.json');

/** USD for `quantity` units at `price`. */
export function costOf(price: Price, quantity: number): number {
  return (quantity / price.per) * price.usd;
}

export function loadPrices(file = pricesFile): PriceList {
  return parsePrices(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
}

/** Checks the hand-edited file's shape, so a typo fails here rather than as a NaN in a report. */
export function parsePrices(value: unknown, where = 'price list'): PriceList {
  const problems: string[] = [];
  const record = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const root = record(value);
  if (!root) throw new Error(`${where}: not a JSON object`);
  if (typeof root.asOf !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(root.asOf)) problems.push('asOf must be a YYYY-MM-DD date');
  if (typeof root.region !== 'string' || root.region === '') problems.push('region is missing');
  if (root.currency !== 'USD') problems.push('currency must be USD');
  if (typeof root.note !== 'string') problems.push('note is missing');
  const prices = record(root.prices) ?? {};
  for (const key of priceKeys) {
    const price = record(prices[key]);
    if (!price) {
      problems.push(`prices.${key} is missing`);
      continue;
    }
    if (typeof price.usd !== 'number' || !(price.usd >= 0)) problems.push(`prices.${key}.usd must be a non-negative number`);
    if (typeof price.per !== 'number' || !(price.per > 0)) problems.push(`prices.${key}.per must be a positive number`);
    if (typeof price.unit !== 'string' || price.unit === '') problems.push(`prices.${key}.unit is missing`);
    if (typeof price.source !== 'string' || price.source === '') problems.push(`prices.${key}.source is missing`);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  return value as PriceList;
}
