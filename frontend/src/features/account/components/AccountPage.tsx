import { useCallback } from 'react';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import { ROLE_LABELS } from '@/lib/roles';
import { listSessions } from '../api/own-account';
import { ChangePasswordForm } from './ChangePasswordForm';
import { SessionsList } from './SessionsList';

/** `paths.account` (any role): one's password and where one is signed in. */
export function AccountPage() {
  useDocumentTitle('Your account');
  const me = useCurrentAdmin();
  const sessions = useResource(useCallback((signal: AbortSignal) => listSessions(signal), []));
  return (
    <>
      <h1 className="h2 mb-1">Your account</h1>
      {me ? (
        <p className="text-body-secondary mb-4 text-break">
          {me.name} · {me.email} · {ROLE_LABELS[me.role]}
        </p>
      ) : null}
      <div className="row g-4">
        <div className="col-12 col-lg-5">
          {/* Changing the password ends the other sessions: the list follows. */}
          <ChangePasswordForm email={me?.email ?? ''} onChanged={sessions.refresh} />
        </div>
        <div className="col-12 col-lg-7">
          <SessionsList sessions={sessions} />
        </div>
      </div>
    </>
  );
}
