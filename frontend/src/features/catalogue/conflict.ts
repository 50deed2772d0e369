import type { Product } from '@/lib/product';
import type { ProductInput, VersionedProduct } from './api/products';
import { PRODUCT_FIELDS, type ProductField } from './validation';

/** A save refused with 412: what the admin started from, what they sent, what is saved now. */
export interface EditConflict {
  from: VersionedProduct;
  mine: ProductInput;
  current: VersionedProduct;
}

export const FIELD_LABELS: Record<ProductField, string> = { title: 'Title', image: 'Image URL' };

/** The fields the admin changed from the version they started from. */
export function editedFields(from: Product, mine: ProductInput): ProductField[] {
  return PRODUCT_FIELDS.filter((field) => mine[field] !== from[field]);
}

/**
 * The admin's changes on top of the product as it is now: their value for each field they
 * edited, the current one for the others (so a field someone else changed, and the admin
 * did not touch, keeps that change).
 */
export function reapplied(conflict: EditConflict): ProductInput {
  const { from, mine, current } = conflict;
  const values: ProductInput = { title: current.product.title, image: current.product.image };
  for (const field of editedFields(from.product, mine)) values[field] = mine[field];
  return values;
}
