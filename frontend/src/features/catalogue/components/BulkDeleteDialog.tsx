import { useState } from 'react';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { isSignInRequired } from '@/lib/session';
import { type BulkDeleteResult, bulkDeleteProducts } from '../api/products';
import { listedTitles } from '../bulk-outcome';
import { productCount } from '../list-query';
import type { Selection } from '../use-row-selection';

interface BulkDeleteDialogProps {
  open: boolean;
  selection: Selection;
  onCancel: () => void;
  onDeleted: (result: BulkDeleteResult) => void;
}

/**
 * Asks before deleting the selected products, naming how many and which (the first ten
 * titles, then "and N more"), and deletes them in one request (POST /api/products/bulk-delete).
 */
export function BulkDeleteDialog({ open, selection, onCancel, onDeleted }: BulkDeleteDialogProps) {
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();
  const { titles, more } = listedTitles(selection);
  const count = selection.size;

  function close() {
    if (deleting) return;
    setError(null);
    onCancel();
  }

  async function confirm() {
    setDeleting(true);
    setError(null);
    let result: BulkDeleteResult;
    try {
      result = await bulkDeleteProducts([...selection.keys()]);
    } catch (e) {
      if (isSignInRequired(e)) {
        sessionEnded();
        return;
      }
      const apiError = toApiError(e);
      const messages = apiError.fieldErrors.ids?.join(' ') ?? describeError(apiError);
      setError(`Nothing was deleted. ${messages}`);
      setDeleting(false);
      return;
    }
    setDeleting(false);
    onDeleted(result);
  }

  return (
    <ConfirmDialog
      open={open}
      title={`Delete ${productCount(count)}?`}
      confirmLabel="Delete"
      busyLabel="Deleting…"
      busy={deleting}
      error={error}
      onConfirm={() => void confirm()}
      onCancel={close}
    >
      <p>
        Delete {count === 1 ? 'this product' : `these ${productCount(count)}`}? {count === 1 ? 'It disappears' : 'They disappear'}{' '}
        from the shop too. This cannot be undone.
      </p>
      <ul className="mb-0 text-break" aria-label="Products to delete">
        {titles.map((title, i) => (
          <li key={i}>“{title}”</li>
        ))}
        {more > 0 ? <li>and {more} more</li> : null}
      </ul>
    </ConfirmDialog>
  );
}
