import type { ReactNode } from 'react';
import { AuditEntryList } from '@/components/audit-log/AuditEntryItem';
import { EmptyState } from '@/components/ui/EmptyState';
import { ErrorAlert } from '@/components/ui/ErrorAlert';
import { LoadingState } from '@/components/ui/LoadingState';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { describeError } from '@/lib/api-client';
import type { AuditFeed } from '../use-audit-feed';

interface AuditFeedViewProps {
  feed: AuditFeed;
  /** The list's accessible name, e.g. "Actions, newest first". */
  label: string;
  errorTitle: string;
  /** Shown when there is no entry at all. */
  empty: { title: string; text?: ReactNode; action?: ReactNode };
  linkProducts?: boolean;
}

/**
 * Entries newest first, with their changes, and "Older entries" under them while more
 * follow; loading, empty and error states (Retry) for the first page and the older ones.
 */
export function AuditFeedView({ feed, label, errorTitle, empty, linkProducts }: AuditFeedViewProps) {
  if (feed.status === 'loading') return <LoadingState label="Loading entries…" />;
  if (feed.status === 'error' && feed.error) {
    return (
      <ErrorAlert title={errorTitle} onRetry={feed.reload}>
        {describeError(feed.error)}
      </ErrorAlert>
    );
  }
  if (feed.entries.length === 0) {
    return (
      <EmptyState title={empty.title} action={empty.action}>
        {empty.text}
      </EmptyState>
    );
  }
  const loadingOlder = feed.olderStatus === 'loading';
  return (
    <>
      <div className="card shadow-sm">
        <AuditEntryList entries={feed.entries} label={label} linkProducts={linkProducts} />
      </div>
      <p className="visually-hidden" role="status">
        {feed.lastAdded > 0 ? `Showing ${feed.entries.length} entries${feed.hasOlder ? '' : ', the oldest ones'}.` : ''}
      </p>
      {feed.olderStatus === 'error' && feed.olderError ? (
        <div className="mt-3">
          <ErrorAlert title="We couldn’t load older entries." onRetry={feed.loadOlder}>
            {describeError(feed.olderError)}
          </ErrorAlert>
        </div>
      ) : null}
      {feed.hasOlder && feed.olderStatus !== 'error' ? (
        <div className="mt-3 text-center">
          {/* aria-disabled, not disabled: focus stays on the button while the next page loads. */}
          <button
            type="button"
            className={`btn btn-outline-primary${loadingOlder ? ' disabled-look' : ''}`}
            onClick={() => {
              if (!loadingOlder) feed.loadOlder();
            }}
            aria-disabled={loadingOlder}
          >
            {loadingOlder ? (
              <>
                <ButtonSpinner />
                Loading older entries…
              </>
            ) : (
              'Older entries'
            )}
          </button>
        </div>
      ) : null}
      {!feed.hasOlder ? <p className="text-center text-body-secondary small mt-3 mb-0">No older entries.</p> : null}
    </>
  );
}
