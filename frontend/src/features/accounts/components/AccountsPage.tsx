import { useCallback, useState } from 'react';
import { AdminsOnly } from '@/components/AdminsOnly';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useCurrentAdmin, useRefreshCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import { paths } from '@/lib/paths';
import { canManageAccounts } from '@/lib/roles';
import { type Account, listAccounts, type SignInLink } from '../api/accounts';
import { AccountRow } from './AccountRow';
import { AddAdminForm } from './AddAdminForm';
import { SignInLinkPanel } from './SignInLinkPanel';

/** `paths.accounts`: admins only; a viewer is told so. */
export function AccountsRoute() {
  if (!canManageAccounts(useCurrentAdmin())) {
    return (
      <AdminsOnly
        title="Only admins can manage accounts"
        message="Your account is a viewer. Ask an admin to add an account, change a role or send a new sign-in link."
        linkTo={paths.account}
        linkLabel="Go to your account"
      />
    );
  }
  return <AccountsPage />;
}

interface ShownLink {
  name: string;
  reason: 'created' | 'new-link';
  link: SignInLink;
}

/**
 * The accounts: who they are, their role, whether they are enabled and have set a password,
 * their last sign-in; Add admin (with the one-time link to send), change a role,
 * Disable/Enable, and a new sign-in link for a forgotten password.
 */
export function AccountsPage() {
  useDocumentTitle('Accounts');
  const me = useCurrentAdmin();
  const refreshMe = useRefreshCurrentAdmin();
  const { state, reload, setData } = useResource(useCallback((signal: AbortSignal) => listAccounts(signal), []));
  const [shownLink, setShownLink] = useState<ShownLink | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  function updated(account: Account, text: string) {
    setData((accounts) => accounts.map((a) => (a.id === account.id ? account : a)));
    setMessage(text);
    // One's own role or status changed: the admin pages follow (e.g. no more Accounts link).
    if (account.id === me?.id) refreshMe();
  }

  function created(account: Account, link: SignInLink) {
    setData((accounts) => [...accounts.filter((a) => a.id !== account.id), account].sort((a, b) => a.id - b.id));
    setMessage(null);
    setShownLink({ name: account.name, reason: 'created', link });
  }

  return (
    <>
      <h1 className="h2 mb-1">Accounts</h1>
      <p className="text-body-secondary mb-4">Who may sign in to the admin, and what they may do.</p>

      {shownLink ? (
        <SignInLinkPanel name={shownLink.name} reason={shownLink.reason} link={shownLink.link} onDone={() => setShownLink(null)} />
      ) : null}
      {message ? (
        <DismissibleAlert variant="success" role="status" onDismiss={() => setMessage(null)}>
          {message}
        </DismissibleAlert>
      ) : null}

      <ResourceStatus state={state} loadingLabel="Loading accounts…" errorTitle="We couldn’t load the accounts." onRetry={reload} />
      {state.status === 'success' ? (
        <div className="card shadow-sm mb-4">
          <div className="table-responsive">
            <table className="table align-middle mb-0 accounts-table">
              <caption className="visually-hidden">Accounts</caption>
              <thead className="table-light">
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {state.data.map((account) => (
                  <AccountRow
                    key={account.id}
                    account={account}
                    isSelf={account.id === me?.id}
                    onUpdated={updated}
                    onLink={(a, link) => {
                      setMessage(null);
                      setShownLink({ name: a.name, reason: 'new-link', link });
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}

      <AddAdminForm onCreated={created} />
    </>
  );
}
