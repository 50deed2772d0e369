import { describe, expect, it } from 'vitest';
import { ApiError } from '@/lib/api-client';
import type { Product } from '@/lib/product';
import { initialWindow, MAX_PAGES, mountedProducts, shownCount, type WindowState, windowReducer } from './product-window';

const product = (id: number, likes = 0): Product => ({ id, title: `P${id}`, image: `/${id}.png`, likes });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => product(from + i));

/** A window showing products 1..n from the start, in pages of 48, with `next`. */
function shown(n: number, next: number | null): WindowState {
  let state = windowReducer(initialWindow('', 0), { type: 'first', q: '', after: 0, page: { products: range(1, Math.min(n, 48)), next: n > 48 ? 48 : next } });
  for (let after = 48; after < n; after += 48) {
    const last = Math.min(after + 48, n);
    state = windowReducer(state, { type: 'more', after, page: { products: range(after + 1, last), next: last < n ? last : next }, droppedHeight: 100 });
  }
  return state;
}

describe('windowReducer', () => {
  it('ignores the answer to a request that is no longer the one asked for', () => {
    const asked = windowReducer(initialWindow('', 0), { type: 'request', q: 'new', after: 0 });
    const late = windowReducer(asked, { type: 'first', q: 'old', after: 0, page: { products: [product(1)], next: null } });
    expect(late).toBe(asked);
  });

  it('drops the top page past MAX_PAGES and keeps its cursor and height', () => {
    const state = shown(48 * (MAX_PAGES + 1), 999);
    expect(state.pages).toHaveLength(MAX_PAGES);
    expect(state.above).toEqual([{ after: 0, height: 100 }]);
    expect(mountedProducts(state)[0]!.id).toBe(49);
    expect(shownCount(state)).toBe(48 * (MAX_PAGES + 1));
  });

  it('ignores a next page that does not continue the window', () => {
    const state = { ...shown(48, 48), loading: 'more' as const };
    const after = windowReducer(state, { type: 'more', after: 12, page: { products: range(13, 60), next: null }, droppedHeight: 0 });
    expect(after.pages).toBe(state.pages);
    expect(after.loading).toBeNull();
  });

  it('brings a dropped page back without the products already shown', () => {
    const state = shown(48 * (MAX_PAGES + 1), 999);
    // Product 3 was deleted meanwhile, so the page after 0 reaches into the next one.
    const page = { products: [...range(1, 2), ...range(4, 49)], next: 49 };
    const after = windowReducer(state, { type: 'earlier', after: 0, page });
    expect(after.pages[0]!.products.map((p) => p.id)).toEqual([...range(1, 2), ...range(4, 48)].map((p) => p.id));
    expect(after.above).toEqual([]);
    expect(after.next).toBe(48 * MAX_PAGES);
    expect(after.pages).toHaveLength(MAX_PAGES);
  });

  it('ignores an earlier page when nothing was dropped', () => {
    const state = shown(48, null);
    expect(windowReducer(state, { type: 'earlier', after: 0, page: { products: [], next: null } }).pages).toBe(state.pages);
  });

  it('applies like counts only where they changed', () => {
    const state = shown(3, null);
    expect(windowReducer(state, { type: 'likes', counts: [{ id: 2, likes: 0 }, { id: 9, likes: 5 }] })).toBe(state);
    const after = windowReducer(state, { type: 'likes', counts: [{ id: 2, likes: 5 }] });
    expect(mountedProducts(after).map((p) => p.likes)).toEqual([0, 5, 0]);
    expect(after.pages[0]).not.toBe(state.pages[0]);
  });

  it('merges a resync by id over the range it covers', () => {
    const state = shown(96, 96);
    const fresh = range(1, 96).filter((p) => p.id !== 50).map((p) => (p.id === 2 ? { ...p, likes: 9 } : p));
    // The answer stops at 90 (a limit), so products past it are left alone.
    const after = windowReducer(state, { type: 'resynced', after: 0, page: { products: fresh.slice(0, 89), next: 90 } });
    const ids = mountedProducts(after).map((p) => p.id);
    expect(ids).not.toContain(50);
    expect(ids).toContain(96);
    expect(mountedProducts(after)[1]!.likes).toBe(9);
    expect(after.next).toBe(96);
  });

  it('offers more after a resync at the end of the list that found new products', () => {
    const state = shown(10, null);
    expect(state.next).toBeNull();
    const after = windowReducer(state, { type: 'resynced', after: 0, page: { products: range(1, 12), next: null } });
    expect(after.next).toBe(10);
    const same = windowReducer(state, { type: 'resynced', after: 0, page: { products: range(1, 10), next: null } });
    expect(same.next).toBeNull();
  });

  it('keeps what is shown when a page fails', () => {
    const state = shown(48, 48);
    const after = windowReducer(state, { type: 'failed', op: 'more', error: new ApiError({ kind: 'network', status: 0, message: 'x' }) });
    expect(after.pages).toBe(state.pages);
    expect(after.error?.op).toBe('more');
  });
});
