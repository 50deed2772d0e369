import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '@/lib/api-client';
import { isLikeCountList, listShopPage, nextAfterFromLink, pageUrl } from './shop-products';

describe('pageUrl', () => {
  it('asks for 48 from the start, a search and a position', () => {
    expect(pageUrl({ q: '', after: 0 })).toBe('/flask/api/products?limit=48');
    expect(pageUrl({ q: ' blue mug ', after: 96 })).toBe('/flask/api/products?q=blue+mug&limit=48&after=96');
    expect(pageUrl({ q: 'a&b=c', after: 0, limit: 240 })).toBe('/flask/api/products?q=a%26b%3Dc&limit=240');
  });
});

describe('nextAfterFromLink', () => {
  it('reads the next page’s `after`', () => {
    expect(nextAfterFromLink('</flask/api/products?q=blue&limit=48&after=143>; rel="next"')).toBe(143);
    expect(nextAfterFromLink('</a?after=1>; rel="prev", </a?after=9>; rel=next')).toBe(9);
    expect(nextAfterFromLink('</a?after=9>; type="x"; rel="prefetch next"')).toBe(9);
  });

  it('is undefined without a next link and null for one it cannot read', () => {
    expect(nextAfterFromLink(null)).toBeUndefined();
    expect(nextAfterFromLink('</a?after=1>; rel="prev"')).toBeUndefined();
    expect(nextAfterFromLink('garbage')).toBeUndefined();
    expect(nextAfterFromLink('</a?limit=48>; rel="next"')).toBeNull();
    expect(nextAfterFromLink('</a?after=-1>; rel="next"')).toBeNull();
  });
});

describe('listShopPage', () => {
  const reply = (body: unknown, headers: Record<string, string> = {}) =>
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(Response.json(body, { headers }));
  const mug = { id: 7, title: 'Mug', image: '/m.png', likes: 1 };

  it('returns the page and where the next one starts', async () => {
    const fetch = reply([mug], { Link: '</flask/api/products?limit=48&after=7>; rel="next"' });
    await expect(listShopPage({ q: 'mug', after: 0 })).resolves.toEqual({ products: [mug], next: 7 });
    expect(fetch.mock.calls[0]![0]).toBe('/flask/api/products?q=mug&limit=48');
  });

  it('has no next page without a Link header', async () => {
    reply([mug]);
    await expect(listShopPage({ q: '', after: 0 })).resolves.toEqual({ products: [mug], next: null });
  });

  it('falls back to the last id when the Link cannot be read', async () => {
    reply([mug], { Link: '</flask/api/products>; rel="next"' });
    await expect(listShopPage({ q: '', after: 0 })).resolves.toEqual({ products: [mug], next: 7 });
  });

  it('refuses an answer that is not a product list', async () => {
    reply({ nope: true });
    await expect(listShopPage({ q: '', after: 0 })).rejects.toBeInstanceOf(ApiError);
  });
});

describe('isLikeCountList', () => {
  it('accepts only [{id, likes}] with integers', () => {
    expect(isLikeCountList([{ id: 1, likes: 2 }])).toBe(true);
    expect(isLikeCountList([])).toBe(true);
    expect(isLikeCountList([{ id: 1 }])).toBe(false);
    expect(isLikeCountList([{ id: 1.5, likes: 2 }])).toBe(false);
    expect(isLikeCountList({ id: 1, likes: 2 })).toBe(false);
  });
});
