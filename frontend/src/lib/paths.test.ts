import { describe, expect, it } from 'vitest';
import { editProductPath, loginPath, paths, productHistoryPath, safeNextPath } from './paths';

describe('paths', () => {
  it('fills the edit pattern with an encoded id', () => {
    expect(editProductPath(7)).toBe('/admin/products/7/edit');
    expect(editProductPath('a/b c')).toBe('/admin/products/a%2Fb%20c/edit');
    expect(paths.editProduct).toBe('/admin/products/:id/edit');
  });

  it('fills the history pattern with an encoded id', () => {
    expect(productHistoryPath(7)).toBe('/admin/products/7/history');
    expect(productHistoryPath('a/b')).toBe('/admin/products/a%2Fb/history');
  });
});

describe('safeNextPath (where signing in goes back to)', () => {
  it('keeps a path of this site, with its query and fragment', () => {
    expect(safeNextPath('/admin/products/5/edit')).toBe('/admin/products/5/edit');
    expect(safeNextPath('/admin/products?x=1#top')).toBe('/admin/products?x=1#top');
    expect(safeNextPath('/')).toBe('/');
    // Resolved as a browser would: dot segments go.
    expect(safeNextPath('/admin/../admin/products')).toBe('/admin/products');
  });

  it('refuses anything that could leave the site (no open redirect)', () => {
    for (const next of [
      null,
      undefined,
      '',
      'admin/products',
      '//evil.example/x',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      'https://evil.example/',
      'http:/evil.example',
      'javascript:alert(1)',
      ' /admin',
      '%2F%2Fevil.example',
    ]) {
      expect(safeNextPath(next), JSON.stringify(next)).toBeNull();
    }
  });

  it('refuses the sign-in page itself, so signing in never loops', () => {
    expect(safeNextPath('/login')).toBeNull();
    expect(safeNextPath('/login?next=/admin')).toBeNull();
  });

  it('builds the sign-in link with an encoded next, or none when next is unsafe', () => {
    expect(loginPath('/admin/products/5/edit?x=1')).toBe('/login?next=%2Fadmin%2Fproducts%2F5%2Fedit%3Fx%3D1');
    expect(loginPath('//evil.example')).toBe('/login');
    expect(loginPath()).toBe('/login');
  });
});
