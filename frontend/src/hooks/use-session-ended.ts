import { useCallback } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { loginPath } from '@/lib/paths';
import { loginState } from '@/lib/session';

/**
 * For an admin page whose call was refused with 401 (the session ended mid-use): returns a
 * function that sends the admin to the sign-in page, saying the session ended, and back to
 * this page afterwards. Save what they typed first (lib/drafts).
 */
export function useSessionEnded(): () => void {
  const navigate = useNavigate();
  const { pathname, search, hash } = useLocation();
  return useCallback(() => {
    void navigate(loginPath(`${pathname}${search}${hash}`), { state: loginState('session-ended') });
  }, [navigate, pathname, search, hash]);
}
