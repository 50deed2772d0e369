import { useLocation, useNavigate } from 'react-router';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { canManageAccounts } from '@/lib/roles';
import { type AuditFilters, auditUrl } from '../api/audit';
import { auditHref, hasFilters, parseAuditFilters } from '../audit-filters';
import { useAuditFeed } from '../use-audit-feed';
import { AuditFeedView } from './AuditFeedView';
import { AuditFilterForm } from './AuditFilterForm';

/**
 * `paths.audit`: the audit log, newest first, filtered by action and (admins, who may list
 * the accounts) by the account that acted; the filters are in the URL. "Older entries"
 * follows the API's `Link: rel="next"`.
 */
export function AuditPage() {
  useDocumentTitle('Recent actions');
  const location = useLocation();
  const navigate = useNavigate();
  const admin = useCurrentAdmin();
  const filters = parseAuditFilters(new URLSearchParams(location.search));
  const feed = useAuditFeed(auditUrl(filters));

  function show(next: AuditFilters) {
    void navigate(auditHref(next));
  }

  return (
    <>
      <h1 className="h2 mb-1">Recent actions</h1>
      <p className="text-body-secondary mb-4">Every change to the catalogue, sign-in, token and account, newest first.</p>
      <AuditFilterForm filters={filters} byActor={canManageAccounts(admin)} onChange={show} />
      <AuditFeedView
        feed={feed}
        label="Actions, newest first"
        errorTitle="We couldn’t load the recent actions."
        empty={
          hasFilters(filters)
            ? { title: 'No actions match these filters', text: 'Try another action or account.' }
            : { title: 'No actions recorded yet', text: 'Changes, sign-ins and account changes appear here.' }
        }
      />
    </>
  );
}
