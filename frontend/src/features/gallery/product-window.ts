import type { ApiError } from '@/lib/api-client';
import type { Product } from '@/lib/product';
import { type LikeCount, PAGE_SIZE, type ShopPage } from './api/shop-products';

/**
 * The gallery's pages of products, as a pure reducer (the fetching is in GalleryPage).
 *
 * At most {@link MAX_PAGES} pages of cards are mounted at once (a window over the list). A
 * page appended at the bottom beyond that drops the top page: its cursor and measured height
 * are kept in `above`, so a spacer of that height keeps the scroll position and the page can
 * be fetched again when the shopper scrolls back up (which drops the bottom page in turn).
 * The keyset API only pages forward, so a page is remembered by the id it starts after.
 */
export const MAX_PAGES = 5;

export interface Page {
  /** The id this page starts after (its `after` cursor; 0 for the first page). */
  after: number;
  products: Product[];
}

/** A page dropped from the top of the window: enough to fetch it again and to keep its room. */
export interface DroppedPage {
  after: number;
  /** Its height on screen when it was dropped, in CSS pixels. */
  height: number;
}

export type PageOp = 'first' | 'more' | 'earlier';

export interface WindowState {
  /** The search asked for (the URL's `q`). */
  q: string;
  /** The position asked for (the URL's `after`). */
  after: number;
  /** The search the mounted pages belong to; null before the first answer. */
  shownQ: string | null;
  pages: Page[];
  /** Pages dropped from the top, the nearest one last. */
  above: DroppedPage[];
  /** Where the next page starts, or null at the end of the list. */
  next: number | null;
  loading: PageOp | null;
  error: { op: PageOp; error: ApiError } | null;
}

export type WindowAction =
  | { type: 'request'; q: string; after: number }
  | { type: 'first'; q: string; after: number; page: ShopPage }
  | { type: 'start'; op: 'more' | 'earlier' }
  | { type: 'more'; after: number; page: ShopPage; droppedHeight: number }
  | { type: 'earlier'; after: number; page: ShopPage }
  | { type: 'failed'; op: PageOp; error: ApiError }
  | { type: 'likes'; counts: LikeCount[] }
  | { type: 'liked'; id: number }
  | { type: 'removed'; id: number }
  | { type: 'resynced'; after: number; page: ShopPage };

export function initialWindow(q: string, after: number): WindowState {
  return { q, after, shownQ: null, pages: [], above: [], next: null, loading: 'first', error: null };
}

function mapProducts(state: WindowState, update: (p: Product) => Product | null): WindowState {
  let changed = false;
  const pages = state.pages.map((page) => {
    const products: Product[] = [];
    for (const product of page.products) {
      const updated = update(product);
      if (updated !== product) changed = true;
      if (updated) products.push(updated);
    }
    return products.length === page.products.length && products.every((p, i) => p === page.products[i])
      ? page
      : { ...page, products };
  });
  return changed ? { ...state, pages } : state;
}

export function windowReducer(state: WindowState, action: WindowAction): WindowState {
  switch (action.type) {
    case 'request':
      // What is shown stays (dimmed) until the answer replaces it.
      return { ...state, q: action.q, after: action.after, loading: 'first', error: null };
    case 'first':
      if (action.q !== state.q || action.after !== state.after) return state;
      return {
        ...state,
        shownQ: action.q,
        pages: action.page.products.length > 0 ? [{ after: action.after, products: action.page.products }] : [],
        above: [],
        next: action.page.next,
        loading: null,
        error: null,
      };
    case 'start':
      return { ...state, loading: action.op, error: null };
    case 'more': {
      if (action.after !== state.next) return { ...state, loading: null };
      let pages = state.pages;
      let above = state.above;
      if (action.page.products.length > 0) {
        pages = [...pages, { after: action.after, products: action.page.products }];
        if (pages.length > MAX_PAGES) {
          const [dropped, ...rest] = pages;
          above = [...above, { after: dropped!.after, height: action.droppedHeight }];
          pages = rest;
        }
      }
      return { ...state, pages, above, next: action.page.next, loading: null };
    }
    case 'earlier': {
      const restored = state.above[state.above.length - 1];
      const first = state.pages[0];
      if (restored?.after !== action.after || !first) return { ...state, loading: null };
      // Products deleted meanwhile would pull the first shown ones into this page: not twice.
      const products = action.page.products.filter((p) => p.id <= first.after);
      let pages = [{ after: action.after, products }, ...state.pages];
      let next = state.next;
      if (pages.length > MAX_PAGES) {
        next = pages[pages.length - 1]!.after;
        pages = pages.slice(0, -1);
      }
      return { ...state, pages, above: state.above.slice(0, -1), next, loading: null };
    }
    case 'failed':
      return { ...state, loading: null, error: { op: action.op, error: action.error } };
    case 'likes': {
      const counts = new Map(action.counts.map((c) => [c.id, c.likes]));
      return mapProducts(state, (p) => {
        const likes = counts.get(p.id);
        return likes === undefined || likes === p.likes ? p : { ...p, likes };
      });
    }
    case 'liked':
      return mapProducts(state, (p) => (p.id === action.id ? { ...p, likes: p.likes + 1 } : p));
    case 'removed':
      return mapProducts(state, (p) => (p.id === action.id ? null : p));
    case 'resynced': {
      // The mounted products as they are now, over the id range the answer covers (up to its
      // last id, or to the end of the list when it was the last page). Merged by id, so a
      // page loaded while the answer was on its way is kept as it is.
      const fresh = new Map(action.page.products.map((p) => [p.id, p]));
      const last = action.page.products[action.page.products.length - 1]?.id;
      const covered = (id: number) =>
        id > action.after && (action.page.next === null || (last !== undefined && id <= last));
      const merged = mapProducts(state, (p) => {
        if (!covered(p.id)) return p;
        const now = fresh.get(p.id);
        if (!now) return null;
        return now.likes === p.likes && now.title === p.title && now.image === p.image ? p : now;
      });
      // Shown to the end of the list, and products were added since: there is more to show.
      const lastPage = merged.pages[merged.pages.length - 1];
      if (merged.next !== null || !lastPage) return merged;
      const shownLast = lastPage.products[lastPage.products.length - 1]?.id ?? lastPage.after;
      const more = action.page.next !== null || (last !== undefined && last > shownLast);
      return more ? { ...merged, next: shownLast } : merged;
    }
  }
}

/** How many products this visit has shown from its starting point (the dropped ones too). */
export function shownCount(state: WindowState): number {
  return state.above.length * PAGE_SIZE + state.pages.reduce((n, page) => n + page.products.length, 0);
}

/** The products of the mounted pages, in order. */
export function mountedProducts(state: WindowState): Product[] {
  return state.pages.flatMap((page) => page.products);
}
