import { describe, expect, it } from 'vitest';
import { etagVersion } from './api/products';
import { bulkDeleteMessage, listedTitles } from './bulk-outcome';
import { editedFields, reapplied } from './conflict';

const started = { id: 5, title: 'Mug', image: '/img/mug.png', likes: 0 };

describe('edit conflicts', () => {
  it('reads the version of a strong ETag only', () => {
    expect(etagVersion('"4"')).toBe(4);
    expect(etagVersion('W/"4"')).toBeNull();
    expect(etagVersion(null)).toBeNull();
  });

  it('reapplies only the fields the admin edited, on top of the current product', () => {
    const current = { product: { ...started, image: '/img/tea.png', title: 'Tea mug' }, etag: '"6"' };
    const mine = { title: 'Big mug', image: '/img/mug.png' };
    expect(editedFields(started, mine)).toEqual(['title']);
    expect(reapplied({ from: { product: started, etag: '"4"' }, mine, current })).toEqual({ title: 'Big mug', image: '/img/tea.png' });
  });
});

describe('bulk delete outcomes', () => {
  const selection = new Map([
    [1, 'Mug'],
    [2, 'Lamp'],
  ]);

  it('says how many were deleted and which were already gone', () => {
    expect(
      bulkDeleteMessage({ deleted: 1, not_found: 1, results: [{ id: 1, outcome: 'deleted' }, { id: 2, outcome: 'not_found' }] }, selection),
    ).toEqual({ kind: 'success', text: 'Deleted 1 product. 1 was already gone: “Lamp”.' });
    expect(
      bulkDeleteMessage({ deleted: 0, not_found: 2, results: [{ id: 1, outcome: 'not_found' }, { id: 2, outcome: 'not_found' }] }, selection),
    ).toEqual({ kind: 'info', text: 'Nothing was deleted: 2 were already gone: “Mug”, “Lamp”.' });
  });

  it('lists at most ten titles', () => {
    const many = new Map(Array.from({ length: 13 }, (_, i) => [i, `P${i}`] as const));
    expect(listedTitles(many)).toEqual({ titles: Array.from({ length: 10 }, (_, i) => `P${i}`), more: 3 });
  });
});
