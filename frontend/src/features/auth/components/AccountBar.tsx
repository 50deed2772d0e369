import { useState } from 'react';
import { NavLink, useNavigate } from 'react-router';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { describeError } from '@/lib/api-client';
import { clearDrafts } from '@/lib/drafts';
import { paths } from '@/lib/paths';
import { canManageAccounts } from '@/lib/roles';
import { loginState } from '@/lib/session';
import { type Admin, isAuthDisabled, signOut } from '../api/session';

const linkClass = ({ isActive }: { isActive: boolean }) => `nav-link py-1 px-2${isActive ? ' active' : ''}`;

/** The admin pages' own links: Accounts for admins only, Your account for a signed-in person. */
function AdminNav({ admin }: { admin: Admin }) {
  return (
    <nav aria-label="Admin" className="me-auto">
      <ul className="nav nav-pills flex-wrap gap-1">
        <li className="nav-item">
          <NavLink className={linkClass} to={paths.products}>
            Products
          </NavLink>
        </li>
        <li className="nav-item">
          <NavLink className={linkClass} to={paths.audit}>
            Recent actions
          </NavLink>
        </li>
        {canManageAccounts(admin) ? (
          <li className="nav-item">
            <NavLink className={linkClass} to={paths.accounts}>
              Accounts
            </NavLink>
          </li>
        ) : null}
        <li className="nav-item">
          <NavLink className={linkClass} to={paths.tokens}>
            Tokens
          </NavLink>
        </li>
        {isAuthDisabled(admin) ? null : (
          <li className="nav-item">
            <NavLink className={linkClass} to={paths.account}>
              Your account
            </NavLink>
          </li>
        )}
      </ul>
    </nav>
  );
}

/** Under the navbar on admin pages: the admin pages' links, who is signed in, and Sign out. */
export function AccountBar({ admin }: { admin: Admin }) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function handleSignOut() {
    setBusy(true);
    setError(null);
    try {
      await signOut();
    } catch (e) {
      // The session may still be valid on the server: say so rather than pretend.
      setError(`You are still signed in. ${describeError(e)}`);
      setBusy(false);
      return;
    }
    clearDrafts();
    await navigate(paths.login, { replace: true, state: loginState('signed-out') });
  }

  return (
    <section className="border-bottom bg-body" aria-label="Your account">
      <div className="container d-flex flex-wrap align-items-center justify-content-end gap-2 py-2 small">
        <AdminNav admin={admin} />
        {isAuthDisabled(admin) ? (
          // ADMIN_AUTH=disabled: nobody signs in, so there is no signing out either.
          <span className="text-warning-emphasis fw-semibold text-break">{admin.name}</span>
        ) : (
          <>
            <span className="text-body-secondary text-break">
              Signed in as <strong className="text-body">{admin.name}</strong>
              {admin.role === 'viewer' ? <span className="badge text-bg-secondary ms-2">Viewer</span> : null}
            </span>
            <button type="button" className="btn btn-sm btn-outline-secondary" onClick={() => void handleSignOut()} disabled={busy}>
              {busy ? (
                <>
                  <ButtonSpinner />
                  Signing out…
                </>
              ) : (
                'Sign out'
              )}
            </button>
          </>
        )}
        {error ? (
          <p className="text-danger w-100 text-end mb-0" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </section>
  );
}
