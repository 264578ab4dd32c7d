import type { Currency, Order, OrderItem, OrderStatus, Product } from '../generated/graphql.js';

/**
 * Stored item shapes (what DynamoDB holds) and the parent values resolvers
 * hand to AppSync. Fields with their own resolver are absent from the parent.
 */

export interface ProductItem {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  priceCents: number;
  currency: Currency;
  category: string;
  stock: number;
  version: number;
  createdAt: string;
  updatedAt: string;
  ratingCount: number;
  ratingTotal: number;
}

export type ProductModel = Omit<Product, 'reviews'>;

export function toProduct(item: ProductItem): ProductModel {
  return {
    id: item.id,
    sku: item.sku,
    name: item.name,
    description: item.description ?? null,
    priceCents: item.priceCents,
    currency: item.currency,
    category: item.category,
    stock: item.stock,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    rating: {
      count: item.ratingCount,
      average: item.ratingCount > 0 ? Math.round((item.ratingTotal / item.ratingCount) * 100) / 100 : null,
    },
  };
}

export type OrderItemModel = Omit<OrderItem, 'product'>;

export interface OrderRecord {
  id: string;
  customerId: string;
  status: OrderStatus;
  items: OrderItemModel[];
  totalCents: number;
  currency: Currency;
  clientToken: string;
  contactEmail: string | null;
  createdAt: string;
  updatedAt: string;
}

export type OrderModel = Omit<Order, 'items'> & { items: OrderItemModel[] };

export function toOrder(item: OrderRecord): OrderModel {
  return { ...item, contactEmail: item.contactEmail ?? null };
}

export interface ReviewItem {
  productId: string;
  id: string;
  authorId: string;
  rating: number;
  title: string | null;
  body: string | null;
  createdAt: string;
}
