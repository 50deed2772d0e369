import { describe, expect, it } from 'vitest';
import { editProductPath, paths } from './paths';

describe('paths', () => {
  it('fills the edit pattern with an encoded id', () => {
    expect(editProductPath(7)).toBe('/admin/products/7/edit');
    expect(editProductPath('a/b c')).toBe('/admin/products/a%2Fb%20c/edit');
    expect(paths.editProduct).toBe('/admin/products/:id/edit');
  });
});
