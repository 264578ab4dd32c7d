import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { MAX_STOCK } from '../../declarations/bounds.js';
import { DomainError, notFound } from '../errors.js';
import type { ProductItem } from '../model.js';

/**
 * Stock changes made inside another table's transaction (an order placed or
 * cancelled): this module builds the products' `Update` actions, with the
 * conditions that keep stock within [0, MAX_STOCK] and the price an order
 * read, and it owns what happens after the commit. The actions are handed out
 * only inside `commit`, which writes the changed products through the cache
 * once the caller's transaction has succeeded: a caller cannot commit stock
 * changes and forget the cache.
 */

/** One action of a TransactWriteItems request. */
export type TransactAction = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface StockLine {
  readonly productId: string;
  readonly quantity: number;
}

/** Units to take from a product, at the price the caller read it with. */
export interface StockTakeLine {
  readonly product: ProductItem;
  readonly quantity: number;
}

interface StockChange<Explanation> {
  /** The changed products, one action each, in the order of the lines. */
  readonly productIds: readonly string[];
  /**
   * Runs `transaction` with this change's actions, one per line in line order (the caller commits
   * them in its one TransactWriteItems, with its own actions). Once it resolves, the products are
   * read back consistently and written through the cache (fenced if that read fails); if it
   * rejects, nothing was written and the rejection is passed on.
   */
  commit(transaction: (actions: TransactAction[]) => Promise<void>): Promise<void>;
  /** Why the condition of the action for line `index` failed, from the product as the table holds it now. */
  explain(index: number): Promise<Explanation>;
}

/** Stock taken by an order: `stock >= :quantity AND priceCents = :price`, so the order charges the price it read. */
export type StockTake = StockChange<DomainError>;
/** Stock given back (a cancelled order): `stock <= MAX_STOCK - :quantity`, so Product.stock stays a GraphQL Int. */
export type StockRestore = StockChange<DomainError | undefined>;

export interface ProductStock {
  /**
   * Takes stock for each line, one product per line (a transaction may touch an item only once:
   * merge repeated products first). Throws InsufficientStock at once when a product as read
   * already has too little: the transaction would fail on that condition.
   */
  takeStock(lines: readonly StockTakeLine[], now: string): StockTake;
  /** Gives stock back, one product per line. */
  restoreStock(lines: readonly StockLine[], now: string): StockRestore;
  /**
   * For a transaction that changed products without this module's actions: reads them back
   * consistently and writes them through the cache (fences them if the read fails).
   */
  afterTransaction(ids: readonly string[]): Promise<void>;
}

export interface ProductStockDependencies {
  readonly table: string;
  /** Eventually consistent, uncached reads (explanations of a failed condition). */
  readonly getManyUncached: (ids: readonly string[]) => Promise<Map<string, ProductItem>>;
  /** The consistent read-back and write-through after a commit (coherence.ts). */
  readonly afterTransaction: (ids: readonly string[]) => Promise<void>;
}

/** A programming error, not a client's: lines must be distinct products with positive whole quantities. */
function checkLines(lines: readonly StockLine[]): void {
  const seen = new Set<string>();
  for (const { productId, quantity } of lines) {
    if (!Number.isInteger(quantity) || quantity < 1) throw new Error(`Stock line for product ${productId} has quantity ${quantity}`);
    if (seen.has(productId)) throw new Error(`Product ${productId} appears twice in one stock change: merge its lines`);
    seen.add(productId);
  }
}

export function createProductStock({ table, getManyUncached, afterTransaction }: ProductStockDependencies): ProductStock {
  const current = async (id: string): Promise<ProductItem | undefined> => (await getManyUncached([id])).get(id);

  function change<Explanation>(
    lines: readonly StockLine[],
    actions: TransactAction[],
    explain: (index: number) => Promise<Explanation>,
  ): StockChange<Explanation> {
    const productIds = lines.map((line) => line.productId);
    return {
      productIds,
      async commit(transaction) {
        await transaction([...actions]);
        await afterTransaction(productIds);
      },
      async explain(index) {
        if (!Number.isInteger(index) || index < 0 || index >= lines.length) throw new Error(`No stock line ${index}`);
        return explain(index);
      },
    };
  }

  return {
    takeStock(lines, now) {
      const stockLines = lines.map(({ product, quantity }) => ({ productId: product.id, quantity }));
      checkLines(stockLines);
      const short = lines.find((line) => line.product.stock < line.quantity);
      if (short) {
        throw new DomainError('InsufficientStock', `Product ${short.product.id} has ${short.product.stock} in stock`, {
          productId: short.product.id,
          stock: short.product.stock,
        });
      }
      const actions = lines.map(({ product, quantity }) => ({
        Update: {
          TableName: table,
          Key: { id: product.id },
          UpdateExpression: 'SET stock = stock - :quantity, version = version + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(id) AND stock >= :quantity AND priceCents = :price',
          ExpressionAttributeValues: { ':quantity': quantity, ':one': 1, ':now': now, ':price': product.priceCents },
        },
      }));
      return change(stockLines, actions, async (index) => {
        const { product } = lines[index]!;
        const item = await current(product.id);
        if (!item) return notFound('Product', product.id);
        if (item.priceCents !== product.priceCents) {
          return new DomainError('ConditionFailed', `The price of product ${product.id} changed; review the order and retry`);
        }
        return new DomainError('InsufficientStock', `Product ${product.id} has ${item.stock} in stock`, {
          productId: product.id,
          stock: item.stock,
        });
      });
    },

    restoreStock(lines, now) {
      checkLines(lines);
      // Restoring stock must not carry it past MAX_STOCK (Product.stock is an Int); in the
      // condition, so concurrent restocks cannot cross it between a read and this write.
      const actions = lines.map(({ productId, quantity }) => ({
        Update: {
          TableName: table,
          Key: { id: productId },
          UpdateExpression: 'SET stock = stock + :quantity, version = version + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(id) AND stock <= :ceiling',
          ExpressionAttributeValues: { ':quantity': quantity, ':one': 1, ':now': now, ':ceiling': MAX_STOCK - quantity },
        },
      }));
      return change(lines, actions, async (index) => {
        const { productId, quantity } = lines[index]!;
        const item = await current(productId);
        if (item && item.stock + quantity > MAX_STOCK) {
          return new DomainError(
            'ConditionFailed',
            `Product ${productId} has ${item.stock} in stock; restoring ${quantity} would exceed the maximum of ${MAX_STOCK}`,
            { productId, stock: item.stock, maxStock: MAX_STOCK },
          );
        }
        return undefined;
      });
    },

    afterTransaction,
  };
}
