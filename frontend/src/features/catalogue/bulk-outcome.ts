import type { BulkDeleteResult } from './api/products';
import { formatCount, productCount } from './list-query';
import type { Selection } from './use-row-selection';

/** At most this many titles are listed in the confirmation; "and N more" for the rest. */
export const LISTED_TITLES = 10;

/** The titles the confirmation lists, and how many more there are. */
export function listedTitles(selection: Selection): { titles: string[]; more: number } {
  const titles = [...selection.values()];
  return { titles: titles.slice(0, LISTED_TITLES), more: Math.max(0, titles.length - LISTED_TITLES) };
}

/**
 * What a bulk delete did, from each id's outcome: "Deleted 3 products." and, when some
 * were gone already, "2 were already gone: “Lamp”, “Vase”." (titles up to three).
 */
export function bulkDeleteMessage(result: BulkDeleteResult, selection: Selection): { kind: 'success' | 'info'; text: string } {
  const deleted = result.results.filter((r) => r.outcome === 'deleted').length;
  const gone = result.results.filter((r) => r.outcome === 'not_found');
  const parts: string[] = [];
  if (deleted > 0) parts.push(`Deleted ${productCount(deleted)}.`);
  if (gone.length > 0) {
    const verb = gone.length === 1 ? 'was' : 'were';
    const titles = gone.map((r) => selection.get(r.id)).filter((t): t is string => t !== undefined);
    const named = gone.length <= 3 && titles.length === gone.length ? `: ${titles.map((t) => `“${t}”`).join(', ')}` : '';
    parts.push(deleted > 0 ? `${formatCount(gone.length)} ${verb} already gone${named}.` : `Nothing was deleted: ${formatCount(gone.length)} ${verb} already gone${named}.`);
  }
  return { kind: deleted > 0 ? 'success' : 'info', text: parts.join(' ') };
}
