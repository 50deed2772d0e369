import { describe, expect, it } from 'vitest';
import {
  apiSearch,
  DEFAULT_QUERY,
  listHref,
  listSearch,
  MAX_QUERY_LENGTH,
  pageCount,
  pageWindow,
  parseListQuery,
  productCount,
  sortParts,
  toggledSort,
} from './list-query';

const parse = (search: string) => parseListQuery(new URLSearchParams(search));

describe('the product table state in the URL', () => {
  it('reads the defaults from an empty search, and writes them as nothing', () => {
    expect(parse('')).toEqual({ q: '', sort: '-id', page: 1, perPage: 25 });
    expect(listSearch(DEFAULT_QUERY)).toBe('');
    expect(listHref(DEFAULT_QUERY)).toBe('/admin/products');
  });

  it('round-trips every parameter, in a fixed order, encoded', () => {
    const search = '?q=caf%C3%A9+%26+tea&sort=-likes&page=12&per_page=100';
    const query = parse(search);
    expect(query).toEqual({ q: 'café & tea', sort: '-likes', page: 12, perPage: 100 });
    expect(listSearch(query)).toBe(search);
    expect(parse(listSearch(query))).toEqual(query);
    expect(listSearch(parse('per_page=50&page=2&sort=title&q=mug'))).toBe('?q=mug&sort=title&page=2&per_page=50');
  });

  it('reads anything unknown or out of range as the default', () => {
    for (const bad of ['sort=price', 'sort=--id', 'sort=', 'page=0', 'page=-3', 'page=2.5', 'page=abc', 'page=1e400', 'per_page=10', 'per_page=1000', 'per_page=']) {
      expect(parse(bad), bad).toEqual(DEFAULT_QUERY);
    }
  });

  it('trims the search and cuts it to the server limit', () => {
    expect(parse('q=%20%20mug%20').q).toBe('mug');
    expect(parse(`q=${'a'.repeat(MAX_QUERY_LENGTH + 50)}`).q).toHaveLength(MAX_QUERY_LENGTH);
    expect(listSearch({ ...DEFAULT_QUERY, q: '   ' })).toBe('');
  });

  it('always asks the API for a numbered page (sort, page and per_page), q only when searching', () => {
    expect(apiSearch(DEFAULT_QUERY)).toBe('?sort=-id&page=1&per_page=25');
    expect(apiSearch({ q: 'blue wid', sort: 'title', page: 3, perPage: 50 })).toBe('?q=blue+wid&sort=title&page=3&per_page=50');
  });
});

describe('sorting', () => {
  it('splits a sort into field and direction', () => {
    expect(sortParts('-likes')).toEqual({ field: 'likes', direction: 'descending' });
    expect(sortParts('title')).toEqual({ field: 'title', direction: 'ascending' });
  });

  it('toggles the sorted column and starts another ascending', () => {
    expect(toggledSort('title', 'title')).toBe('-title');
    expect(toggledSort('-title', 'title')).toBe('title');
    expect(toggledSort('-id', 'id')).toBe('id');
    expect(toggledSort('-id', 'likes')).toBe('likes');
    expect(toggledSort('-title', 'likes')).toBe('likes');
  });
});

describe('pages', () => {
  it('counts pages, at least one', () => {
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(25, 25)).toBe(1);
    expect(pageCount(26, 25)).toBe(2);
    expect(pageCount(100_000, 100)).toBe(1000);
  });

  it('links up to two pages either side of the current one, five where there are', () => {
    expect(pageWindow(1, 1)).toEqual([1]);
    expect(pageWindow(1, 3)).toEqual([1, 2, 3]);
    expect(pageWindow(1, 50)).toEqual([1, 2, 3, 4, 5]);
    expect(pageWindow(2, 50)).toEqual([1, 2, 3, 4, 5]);
    expect(pageWindow(10, 50)).toEqual([8, 9, 10, 11, 12]);
    expect(pageWindow(49, 50)).toEqual([46, 47, 48, 49, 50]);
    expect(pageWindow(50, 50)).toEqual([46, 47, 48, 49, 50]);
    // Past the end: the last pages.
    expect(pageWindow(70, 4)).toEqual([1, 2, 3, 4]);
  });

  it('writes the total in words', () => {
    expect(productCount(0)).toBe('0 products');
    expect(productCount(1)).toBe('1 product');
    expect(productCount(100_000)).toBe('100,000 products');
  });
});
