import { useCallback, useEffect, useMemo, useState } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { AppLayout } from '@/components/layout/AppLayout';
import { ErrorAlert } from '@/components/ui/ErrorAlert';
import { LoadingState } from '@/components/ui/LoadingState';
import { CurrentAdminContext, type CurrentAdminValue } from '@/hooks/use-current-admin';
import { type ApiError, describeError, isAbortError, toApiError } from '@/lib/api-client';
import { loginPath } from '@/lib/paths';
import { isSignInRequired, loginState } from '@/lib/session';
import { type Admin, getSignedInAdmin } from '../api/session';
import { AccountBar } from './AccountBar';

type SignInCheck =
  | { status: 'checking' }
  | { status: 'signed-in'; admin: Admin }
  /** `ended`: the admin was signed in here and the session ended meanwhile. */
  | { status: 'signed-out'; ended: boolean }
  | { status: 'error'; error: ApiError };

/**
 * The layout of every admin page (`/admin/…`, `/account`): asks admin-svc who is signed in
 * (`GET /api/auth/me`) and shows the page with the admin's name, the admin pages' links and
 * Sign out, and gives the pages the account and its role (hooks/use-current-admin), or sends the
 * person to the sign-in page and back here afterwards. It asks again on each admin page
 * visited (in the background, the page stays), so a session that ended while the tab was
 * idle sends the admin to sign in before they start typing; a write refused mid-use is
 * handled by the page itself (hooks/use-session-ended).
 */
export function AdminArea() {
  const location = useLocation();
  const here = `${location.pathname}${location.search}${location.hash}`;
  const [check, setCheck] = useState<SignInCheck>({ status: 'checking' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    getSignedInAdmin(controller.signal).then(
      (admin) => {
        if (!controller.signal.aborted) setCheck({ status: 'signed-in', admin });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        if (isSignInRequired(error)) {
          setCheck((c) => ({ status: 'signed-out', ended: c.status === 'signed-in' }));
        } else {
          // A failed re-check (outage) leaves a shown page as it is; its own calls will say.
          setCheck((c) => (c.status === 'signed-in' ? c : { status: 'error', error: toApiError(error) }));
        }
      },
    );
    return () => controller.abort();
  }, [location.pathname, attempt]);

  // Asks again in the background (the page stays), e.g. after an admin changed their own role.
  const refresh = useCallback(() => setAttempt((n) => n + 1), []);
  const signedIn = check.status === 'signed-in' ? check.admin : null;
  const current = useMemo<CurrentAdminValue | null>(() => (signedIn ? { admin: signedIn, refresh } : null), [signedIn, refresh]);

  if (check.status === 'signed-out') {
    return <Navigate to={loginPath(here)} replace state={check.ended ? loginState('session-ended') : null} />;
  }

  return (
    <AppLayout account={check.status === 'signed-in' ? <AccountBar admin={check.admin} /> : null}>
      {current ? (
        <CurrentAdminContext value={current}>
          <Outlet />
        </CurrentAdminContext>
      ) : null}
      {check.status === 'checking' ? <LoadingState label="Checking your sign-in…" /> : null}
      {check.status === 'error' ? (
        <ErrorAlert
          title="We couldn’t check your sign-in."
          onRetry={() => {
            setCheck({ status: 'checking' });
            setAttempt((n) => n + 1);
          }}
        >
          {describeError(check.error)}
        </ErrorAlert>
      ) : null}
    </AppLayout>
  );
}
