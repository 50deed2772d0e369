import { describe, expect, it } from 'vitest';
import { isProduct, isProductList } from './product';

const mug = { id: 1, title: 'Mug', image: '/m.png', likes: 0 };

describe('product guards', () => {
  it('accept the shape both services send', () => {
    expect(isProduct(mug)).toBe(true);
    expect(isProduct({ ...mug, extra: 'ignored' })).toBe(true);
    expect(isProductList([])).toBe(true);
    expect(isProductList([mug, { ...mug, id: 2 }])).toBe(true);
  });

  it('refuse anything else', () => {
    for (const value of [null, undefined, 'Mug', [mug], { ...mug, id: '1' }, { ...mug, likes: null }, { id: 1, title: 'Mug', image: '/m.png' }]) {
      expect(isProduct(value), JSON.stringify(value)).toBe(false);
    }
    expect(isProductList(mug)).toBe(false);
    expect(isProductList([mug, { ...mug, title: 3 }])).toBe(false);
  });
});
