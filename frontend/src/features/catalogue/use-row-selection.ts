import { useCallback, useState } from 'react';
import type { Product } from '@/lib/product';

/** Selected products by id, with their titles (for the confirmation that names them). */
export type Selection = ReadonlyMap<number, string>;

interface State {
  /** The table state the selection belongs to; another one means nothing is selected. */
  key: string;
  selected: Selection;
  /** The row index of the last single click, where a Shift+click range starts. */
  anchor: number | null;
}

/**
 * The selection after a click on row `index`'s checkbox (`checked`: its new state). With
 * Shift and an anchor, every row from the anchor to it takes that state, as in a mail client.
 */
export function clickRow(
  selected: Selection,
  rows: readonly Product[],
  anchor: number | null,
  index: number,
  checked: boolean,
  shift: boolean,
): Selection {
  const next = new Map(selected);
  const from = shift && anchor !== null && anchor < rows.length ? Math.min(anchor, index) : index;
  const to = shift && anchor !== null && anchor < rows.length ? Math.max(anchor, index) : index;
  for (let i = from; i <= to; i++) {
    const row = rows[i];
    if (!row) continue;
    if (checked) next.set(row.id, row.title);
    else next.delete(row.id);
  }
  return next;
}

export interface RowSelection {
  selected: Selection;
  isSelected: (id: number) => boolean;
  /** A row's checkbox changed; `shift`: a Shift+click (a range from the last click). */
  toggle: (index: number, checked: boolean, shift: boolean) => void;
  /** The header checkbox: every row of the page, or none. */
  toggleAll: (checked: boolean) => void;
  /** Every row of the page is selected (and there is one). */
  allSelected: boolean;
  someSelected: boolean;
  clear: () => void;
  /** Drops ids (deleted) from the selection. */
  remove: (ids: readonly number[]) => void;
}

/**
 * The table's selected rows. It belongs to one table state (`key`: page, search, sort, page
 * size): when that changes the selection is empty, so a delete never reaches rows the admin
 * can no longer see.
 */
export function useRowSelection(key: string, rows: readonly Product[]): RowSelection {
  const [state, setState] = useState<State>({ key, selected: new Map(), anchor: null });
  const current = state.key === key ? state : { key, selected: new Map<number, string>(), anchor: null };
  // Only rows on screen count: a row gone from the page (deleted, or a page that changed
  // under a Refresh) is never deleted unseen.
  const selected: Selection = new Map([...current.selected].filter(([id]) => rows.some((r) => r.id === id)));

  const update = useCallback(
    (change: (s: State) => State) => setState((s) => change(s.key === key ? s : { key, selected: new Map(), anchor: null })),
    [key],
  );
  const toggle = useCallback(
    (index: number, checked: boolean, shift: boolean) =>
      update((s) => ({ ...s, selected: clickRow(s.selected, rows, s.anchor, index, checked, shift), anchor: index })),
    [update, rows],
  );
  const toggleAll = useCallback(
    (checked: boolean) =>
      update((s) => ({
        ...s,
        selected: checked ? new Map(rows.map((r) => [r.id, r.title])) : new Map(),
        anchor: null,
      })),
    [update, rows],
  );
  const clear = useCallback(() => update((s) => ({ ...s, selected: new Map(), anchor: null })), [update]);
  const remove = useCallback(
    (ids: readonly number[]) =>
      update((s) => {
        const next = new Map(s.selected);
        for (const id of ids) next.delete(id);
        return { ...s, selected: next };
      }),
    [update],
  );

  const onPage = selected.size;
  return {
    selected,
    isSelected: (id) => selected.has(id),
    toggle,
    toggleAll,
    allSelected: rows.length > 0 && onPage === rows.length,
    someSelected: onPage > 0,
    clear,
    remove,
  };
}
