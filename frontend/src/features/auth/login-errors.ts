import { describeError, toApiError } from '@/lib/api-client';

export type LoginField = 'email' | 'password';

/** How a failed sign-in is shown: messages next to the fields, or one at the top. */
export interface LoginErrors {
  fields: Partial<Record<LoginField, string>>;
  top: string | null;
}

export const BLANK = 'This field may not be blank.';

/** The form's own check before asking the server (the server's rule and message). */
export function validateLogin(email: string, password: string): LoginErrors['fields'] {
  const fields: LoginErrors['fields'] = {};
  if (email.trim() === '') fields.email = BLANK;
  if (password === '') fields.password = BLANK;
  return fields;
}

/**
 * Maps whatever signing in rejected with to the form's messages. admin-svc's own words are
 * shown for a wrong email or password (401), too many failures (429, with the wait) and an
 * outage (503, its own or nginx's); server faults and network failures get a message a
 * person can act on.
 */
export function mapLoginError(error: unknown): LoginErrors {
  const e = toApiError(error);
  if (e.kind === 'http' && e.status === 400 && (e.fieldErrors.email || e.fieldErrors.password)) {
    const fields: LoginErrors['fields'] = {};
    if (e.fieldErrors.email) fields.email = e.fieldErrors.email.join(' ');
    if (e.fieldErrors.password) fields.password = e.fieldErrors.password.join(' ');
    return { fields, top: null };
  }
  if (e.kind === 'http') {
    if (e.status === 401) return { fields: {}, top: e.serverMessage ?? 'Invalid email or password' };
    if (e.status === 429) {
      return { fields: {}, top: e.serverMessage ?? 'Too many failed sign-ins; wait a few minutes and try again' };
    }
    if (e.status === 503 && e.serverMessage) return { fields: {}, top: e.serverMessage };
  }
  return { fields: {}, top: describeError(e) };
}
