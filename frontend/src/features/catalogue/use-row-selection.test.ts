import { describe, expect, it } from 'vitest';
import { clickRow } from './use-row-selection';

const rows = [1, 2, 3, 4, 5].map((id) => ({ id, title: `P${id}`, image: '/x.png', likes: 0 }));
const ids = (s: ReadonlyMap<number, string>) => [...s.keys()].sort();

describe('clickRow', () => {
  it('toggles one row without Shift', () => {
    const one = clickRow(new Map(), rows, null, 1, true, false);
    expect(ids(one)).toEqual([2]);
    expect(one.get(2)).toBe('P2');
    expect(ids(clickRow(one, rows, 1, 1, false, false))).toEqual([]);
  });

  it('selects the range from the anchor with Shift, either way round', () => {
    expect(ids(clickRow(new Map([[2, 'P2']]), rows, 1, 3, true, true))).toEqual([2, 3, 4]);
    expect(ids(clickRow(new Map([[4, 'P4']]), rows, 3, 0, true, true))).toEqual([1, 2, 3, 4]);
  });

  it('clears the range when the Shift+clicked row is being unchecked', () => {
    const all = new Map(rows.map((r) => [r.id, r.title]));
    expect(ids(clickRow(all, rows, 0, 2, false, true))).toEqual([4, 5]);
  });

  it('without an anchor, Shift+click is a single click', () => {
    expect(ids(clickRow(new Map(), rows, null, 3, true, true))).toEqual([4]);
  });
});
