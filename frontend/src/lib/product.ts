import { isArrayOf, isRecord } from './guards';

/**
 * A product as both services send it: admin-svc's catalogue (`/api/products`, where `likes`
 * is read-only) and main-svc's mirror of it (`/flask/api/products`, where `likes` is the
 * shop's own count).
 */
export interface Product {
  id: number;
  title: string;
  image: string;
  likes: number;
}

export function isProduct(value: unknown): value is Product {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.title === 'string' &&
    typeof value.image === 'string' &&
    typeof value.likes === 'number'
  );
}

export const isProductList = isArrayOf(isProduct);
