import { useCallback, useState } from 'react';
import { Link } from 'react-router';
import { AuditEntryList } from '@/components/audit-log/AuditEntryItem';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useResource } from '@/hooks/use-resource';
import { paths } from '@/lib/paths';
import { auditUrl, listEntries } from '../api/audit';

/** How many entries the panel shows. */
export const RECENT_LIMIT = 10;

interface RecentActionsPanelProps {
  /** Asks again (in the background) whenever this changes, e.g. after a delete on the page. */
  refreshKey?: number;
}

/** The products page's "Recent actions": the latest entries as sentences, and a link to them all. */
export function RecentActionsPanel({ refreshKey = 0 }: RecentActionsPanelProps) {
  const { state, reload, refresh } = useResource(
    useCallback((signal: AbortSignal) => listEntries(auditUrl({}, RECENT_LIMIT), signal), []),
  );
  // A change on the page: the panel follows (adjusting state to a new prop, during render).
  const [seenKey, setSeenKey] = useState(refreshKey);
  if (seenKey !== refreshKey) {
    setSeenKey(refreshKey);
    refresh();
  }

  return (
    <aside className="card shadow-sm audit-panel" aria-labelledby="recent-actions-title">
      <div className="card-body">
        <h2 id="recent-actions-title" className="h5">
          Recent actions
        </h2>
        <ResourceStatus state={state} loadingLabel="Loading recent actions…" errorTitle="We couldn’t load the recent actions." onRetry={reload} />
        {state.status === 'success' && state.data.entries.length === 0 ? (
          <p className="text-body-secondary mb-2">Nothing has been done yet.</p>
        ) : null}
        {state.status === 'success' && state.data.entries.length > 0 ? (
          <AuditEntryList entries={state.data.entries.slice(0, RECENT_LIMIT)} label="Latest actions" showChanges={false} />
        ) : null}
        <Link to={paths.audit} className="d-inline-block mt-2">
          All recent actions
        </Link>
      </div>
    </aside>
  );
}
