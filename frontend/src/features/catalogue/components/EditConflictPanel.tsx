import { useCallback, useEffect, useRef, useState } from 'react';
import { AuditEntryList } from '@/components/audit-log/AuditEntryItem';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { useResource } from '@/hooks/use-resource';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { saveDraft } from '@/lib/drafts';
import type { Product } from '@/lib/product';
import { isSignInRequired } from '@/lib/session';
import { getRecentHistory } from '../api/history';
import { etagVersion, readConflict, updateProduct, type VersionedProduct } from '../api/products';
import { type EditConflict, editedFields, FIELD_LABELS, reapplied } from '../conflict';
import { saveBaseDraft } from '../edit-drafts';

/** How many of the product's latest changes are asked for to say who changed it. */
const HISTORY_LIMIT = 10;

interface EditConflictPanelProps {
  id: string;
  conflict: EditConflict;
  /** The form's draft key (its page path), kept when the session ends while reapplying. */
  draftKey: string;
  onSaved: (product: Product) => void;
  /** Reapplying met yet another change. */
  onConflict: (current: VersionedProduct) => void;
  /** Load the product as it is now into the form. */
  onDiscard: (current: VersionedProduct) => void;
}

/**
 * The edit form's answer to a 412: each field the admin edited, their value against the
 * one saved now, who changed the product since the version they started from (its history's
 * newer entries), and the choice to reapply their changes on top of the current version
 * (`If-Match` its new `ETag`) or to discard them.
 */
export function EditConflictPanel({ id, conflict, draftKey, onSaved, onConflict, onDiscard }: EditConflictPanelProps) {
  const { from, mine, current } = conflict;
  const fields = editedFields(from.product, mine);
  const fromVersion = etagVersion(from.etag);
  const { state, reload } = useResource(useCallback((signal: AbortSignal) => getRecentHistory(id, HISTORY_LIMIT, signal), [id]));
  const newer =
    state.status === 'success'
      ? state.data.filter((e) => fromVersion === null || (e.product_version !== null && e.product_version > fromVersion))
      : [];
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);

  async function reapply() {
    setSaving(true);
    setError(null);
    const values = reapplied(conflict);
    try {
      onSaved(await updateProduct(id, values, current.etag));
    } catch (e) {
      const again = readConflict(e);
      if (again) return onConflict(again);
      if (isSignInRequired(e)) {
        saveDraft(draftKey, mine);
        saveBaseDraft(draftKey, current);
        return sessionEnded();
      }
      const apiError = toApiError(e);
      const fieldMessages = Object.values(apiError.fieldErrors).flat();
      setError(apiError.isNotFound ? 'This product no longer exists: it was deleted meanwhile.' : [describeError(apiError), ...fieldMessages].join(' '));
      setSaving(false);
    }
  }

  return (
    <section aria-labelledby="conflict-title" className="card border-warning shadow-sm">
      <div className="card-body">
        <h2 id="conflict-title" ref={headingRef} tabIndex={-1} className="h4">
          This product changed while you were editing it
        </h2>
        <p>Your changes were not saved. Compare them with the product as it is now, then reapply or discard them.</p>

        {fields.length > 0 ? (
          <div className="table-responsive mb-3">
            <table className="table table-sm align-middle mb-0">
              <caption className="visually-hidden">Your changes and the current values</caption>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Your value</th>
                  <th scope="col">Current value</th>
                </tr>
              </thead>
              <tbody>
                {fields.map((field) => (
                  <tr key={field}>
                    <th scope="row">{FIELD_LABELS[field]}</th>
                    <td className="text-break">{mine[field]}</td>
                    <td className="text-break">
                      {current.product[field]}
                      {current.product[field] === from.product[field] ? (
                        <span className="text-body-secondary small"> (unchanged)</span>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>You had not changed any field.</p>
        )}

        <h3 className="h6">Changed since you opened it</h3>
        <ResourceStatus state={state} loadingLabel="Loading who changed it…" errorTitle="We couldn’t load who changed it." onRetry={reload} />
        {state.status === 'success' ? (
          newer.length > 0 ? (
            <div className="border rounded mb-3">
              <AuditEntryList entries={newer} label="Changes since you opened it" linkProducts={false} />
            </div>
          ) : (
            <p className="text-body-secondary">The history does not show who changed it.</p>
          )
        ) : null}

        {error ? (
          <div className="alert alert-danger" role="alert">
            {error}
          </div>
        ) : null}
        <div className="d-flex flex-wrap gap-2">
          {fields.length > 0 ? (
            <button type="button" className="btn btn-primary" onClick={() => void reapply()} disabled={saving}>
              {saving ? (
                <>
                  <ButtonSpinner />
                  Saving…
                </>
              ) : (
                'Reapply my changes'
              )}
            </button>
          ) : null}
          <button type="button" className="btn btn-outline-secondary" onClick={() => onDiscard(current)} disabled={saving}>
            Discard my changes
          </button>
        </div>
      </div>
    </section>
  );
}
