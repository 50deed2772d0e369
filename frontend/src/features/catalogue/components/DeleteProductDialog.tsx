import { useState } from 'react';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import type { Product } from '@/lib/product';
import { isSignInRequired } from '@/lib/session';
import { deleteProduct } from '../api/products';

interface DeleteProductDialogProps {
  /** The product to delete; the dialog is open while there is one. */
  product: Product | null;
  onCancel: () => void;
  /** Deleted, or `gone`: it had been deleted already (404). */
  onDeleted: (product: Product, outcome: 'deleted' | 'gone') => void;
}

/**
 * Asks before deleting one product, naming it; deletes it (a failure stays in the dialog,
 * to retry or cancel); a session that ended sends the admin to sign in, deleting nothing.
 */
export function DeleteProductDialog({ product, onCancel, onDeleted }: DeleteProductDialogProps) {
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();

  function close() {
    if (deleting) return;
    setError(null);
    onCancel();
  }

  async function confirm() {
    if (!product) return;
    setDeleting(true);
    setError(null);
    let outcome: 'deleted' | 'gone' = 'deleted';
    try {
      await deleteProduct(product.id);
    } catch (e) {
      if (isSignInRequired(e)) {
        // Nothing was deleted; the sign-in page says the session ended.
        sessionEnded();
        return;
      }
      const apiError = toApiError(e);
      if (!apiError.isNotFound) {
        setError(`“${product.title}” was not deleted. ${describeError(apiError)}`);
        setDeleting(false);
        return;
      }
      outcome = 'gone';
    }
    setDeleting(false);
    onDeleted(product, outcome);
  }

  return (
    <ConfirmDialog
      open={product !== null}
      title="Delete product?"
      confirmLabel="Delete"
      busyLabel="Deleting…"
      busy={deleting}
      error={error}
      onConfirm={() => void confirm()}
      onCancel={close}
    >
      <p className="mb-0">
        Delete <strong className="text-break">“{product?.title}”</strong>? It disappears from the shop too. This cannot be
        undone.
      </p>
    </ConfirmDialog>
  );
}
