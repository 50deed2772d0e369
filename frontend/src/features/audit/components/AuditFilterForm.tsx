import { useCallback, useId } from 'react';
import { Link } from 'react-router';
import { useResource } from '@/hooks/use-resource';
import { AUDIT_ACTION_LABELS, AUDIT_ACTIONS } from '@/lib/audit-log';
import { paths } from '@/lib/paths';
import { type AuditFilters, listActors } from '../api/audit';

interface AuditFilterFormProps {
  filters: AuditFilters;
  /** Offer the actor filter (the accounts list is an admin's). */
  byActor: boolean;
  onChange: (filters: AuditFilters) => void;
}

/** The audit log's filters: by action and (admins) by the account that acted; applied on change. */
export function AuditFilterForm({ filters, byActor, onChange }: AuditFilterFormProps) {
  const id = useId();
  const filtered = filters.action !== undefined || filters.actor !== undefined || filters.product !== undefined;
  return (
    <form className="d-flex flex-wrap align-items-end gap-3 mb-3" aria-label="Filter actions" onSubmit={(e) => e.preventDefault()}>
      <div>
        <label htmlFor={`${id}-action`} className="form-label fw-semibold mb-1">
          Action
        </label>
        <select
          id={`${id}-action`}
          className="form-select"
          value={filters.action ?? ''}
          onChange={(e) => onChange({ ...filters, action: e.target.value || undefined })}
        >
          <option value="">All actions</option>
          {AUDIT_ACTIONS.map((action) => (
            <option key={action} value={action}>
              {AUDIT_ACTION_LABELS[action]}
            </option>
          ))}
        </select>
      </div>
      {byActor ? <ActorSelect id={`${id}-actor`} filters={filters} onChange={onChange} /> : null}
      {filters.product !== undefined ? (
        <p className="mb-2">
          Product #{filters.product}{' '}
          <button type="button" className="btn btn-link p-0 align-baseline" onClick={() => onChange({ ...filters, product: undefined })}>
            Any product
          </button>
        </p>
      ) : null}
      {filtered ? (
        <Link to={paths.audit} className="btn btn-outline-secondary">
          Clear filters
        </Link>
      ) : null}
    </form>
  );
}

function ActorSelect({ id, filters, onChange }: { id: string; filters: AuditFilters; onChange: (filters: AuditFilters) => void }) {
  const { state, reload } = useResource(useCallback((signal: AbortSignal) => listActors(signal), []));
  const actors = state.status === 'success' ? state.data : [];
  const known = filters.actor === undefined || actors.some((a) => a.id === filters.actor);
  return (
    <div>
      <label htmlFor={id} className="form-label fw-semibold mb-1">
        Account
      </label>
      <select
        id={id}
        className="form-select"
        value={filters.actor === undefined ? '' : String(filters.actor)}
        disabled={state.status === 'loading'}
        aria-describedby={state.status === 'error' ? `${id}-error` : undefined}
        onChange={(e) => onChange({ ...filters, actor: e.target.value === '' ? undefined : Number(e.target.value) })}
      >
        <option value="">Anyone</option>
        {actors.map((actor) => (
          <option key={actor.id} value={actor.id}>
            {actor.name} ({actor.email})
          </option>
        ))}
        {known ? null : <option value={filters.actor}>Account #{filters.actor}</option>}
      </select>
      {state.status === 'error' ? (
        <p id={`${id}-error`} className="small text-danger mb-0 mt-1">
          The accounts could not be loaded.{' '}
          <button type="button" className="btn btn-link btn-sm p-0 align-baseline" onClick={reload}>
            Retry
          </button>
        </p>
      ) : null}
    </div>
  );
}
