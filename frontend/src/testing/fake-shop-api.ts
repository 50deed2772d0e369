import { vi } from 'vitest';

/** A product as main-svc sends it (kept local: src/testing imports no feature). */
export interface FakeProduct {
  id: number;
  title: string;
  image: string;
  likes: number;
}

/** `count` products with ids 1..count, titled "Product 1", "Product 2", … */
export function makeProducts(count: number, title = (id: number) => `Product ${id}`): FakeProduct[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, title: title(i + 1), image: `/img/${i + 1}.png`, likes: 0 }));
}

function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** api-24.md's matching: every word but the last whole, the last one a prefix. */
export function matches(title: string, q: string): boolean {
  const query = words(q);
  if (query.length === 0) return true;
  const have = words(title);
  const last = query[query.length - 1]!;
  return query.slice(0, -1).every((w) => have.includes(w)) && have.some((w) => w.startsWith(last));
}

export interface HeldRequest {
  url: string;
  signal: AbortSignal | null | undefined;
  /** Sends the answer the server would have sent when the request arrived. */
  release: () => void;
}

export interface FakeShopOptions {
  products: FakeProduct[];
  /** GET /flask/api/likes: what this shopper liked before. */
  liked?: number[];
}

/**
 * Replaces `fetch` with an in-memory main-svc that pages, searches and likes as api-24.md
 * says: `GET /flask/api/products?q=&limit=&after=` (with `Link: rel="next"`),
 * `GET /flask/api/likes`, `POST /flask/api/products/{id}/like`.
 *
 * `hold()` keeps the next product-list answers back until released, whatever the request's
 * abort signal says (a late answer, as from a server that answered before the abort).
 * `fail(n)` answers the next n product-list requests with a 503.
 */
export function fakeShopApi({ products, liked = [] }: FakeShopOptions) {
  const state = { products: [...products], liked: new Set(liked), holding: false, failures: 0 };
  /** Every product-list request, as its path and query. */
  const requests: string[] = [];
  const held: HeldRequest[] = [];

  function listAnswer(url: URL): Response {
    const q = url.searchParams.get('q');
    const limitParam = url.searchParams.get('limit');
    const afterParam = url.searchParams.get('after');
    if (q === null && limitParam === null && afterParam === null) return Response.json(state.products);
    const limit = Number(limitParam ?? 100);
    const after = Number(afterParam ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return Response.json({ message: 'limit must be between 1 and 1000' }, { status: 400 });
    }
    const matching = state.products.filter((p) => p.id > after && (q === null || matches(p.title, q)));
    const page = matching.slice(0, limit);
    const headers = new Headers();
    if (matching.length > limit) {
      const next = new URLSearchParams();
      if (q !== null) next.set('q', q);
      next.set('limit', String(limit));
      next.set('after', String(page[page.length - 1]!.id));
      headers.set('Link', `</flask/api/products?${next.toString()}>; rel="next"`);
    }
    return Response.json(page, { headers });
  }

  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(href, 'http://shop.test');
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'GET' && url.pathname === '/flask/api/products') {
      requests.push(`${url.pathname}${url.search}`);
      if (state.failures > 0) {
        state.failures -= 1;
        return Promise.resolve(Response.json({ message: 'unavailable' }, { status: 503 }));
      }
      if (state.holding) {
        return new Promise<Response>((resolve) => {
          held.push({ url: `${url.pathname}${url.search}`, signal: init?.signal, release: () => resolve(listAnswer(url)) });
        });
      }
      return Promise.resolve(listAnswer(url));
    }
    if (method === 'GET' && url.pathname === '/flask/api/likes') {
      return Promise.resolve(Response.json([...state.liked]));
    }
    const like = /^\/flask\/api\/products\/(\d+)\/like$/.exec(url.pathname);
    if (method === 'POST' && like) {
      const product = state.products.find((p) => p.id === Number(like[1]));
      if (!product) return Promise.resolve(Response.json({ error: 'Product not found' }, { status: 404 }));
      if (state.liked.has(product.id)) {
        return Promise.resolve(Response.json({ error: 'You already liked this product.' }, { status: 400 }));
      }
      state.liked.add(product.id);
      product.likes += 1;
      return Promise.resolve(Response.json({ message: 'success' }));
    }
    return Promise.reject(new Error(`Unexpected request in test: ${method} ${href}`));
  });

  return {
    spy,
    requests,
    held,
    /** The server's products (change them to simulate other shoppers and admins). */
    products: state.products,
    hold() {
      state.holding = true;
    },
    answerNow() {
      state.holding = false;
      for (const request of held.splice(0)) request.release();
    },
    fail(times = 1) {
      state.failures = times;
    },
    setLikes(id: number, likes: number) {
      const product = state.products.find((p) => p.id === id);
      if (product) product.likes = likes;
    },
    remove(id: number) {
      const index = state.products.findIndex((p) => p.id === id);
      if (index >= 0) state.products.splice(index, 1);
    },
  };
}
