/**
 * What the admin pages share about the sign-in session, without knowing the sign-in page:
 * how a session that ended shows up (a 401 from an admin call) and why the sign-in page was
 * opened (navigation state it reads).
 */
import { isApiError } from './api-client';
import { isRecord } from './guards';

/** Why the sign-in page was opened, beyond "this page needs an admin". */
export type LoginReason = 'session-ended' | 'signed-out';

/** The navigation state that carries a {@link LoginReason}. */
export function loginState(reason: LoginReason): { loginReason: LoginReason } {
  return { loginReason: reason };
}

export function readLoginReason(state: unknown): LoginReason | null {
  if (!isRecord(state)) return null;
  const reason = state.loginReason;
  return reason === 'session-ended' || reason === 'signed-out' ? reason : null;
}

/** An admin call refused for want of a session: never signed in, or the session ended. */
export function isSignInRequired(error: unknown): boolean {
  return isApiError(error) && error.kind === 'http' && error.status === 401;
}
