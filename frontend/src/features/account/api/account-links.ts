import { api, expectShape } from '@/lib/api-client';
import { isRecord } from '@/lib/guards';

// admin-svc's one-time links (public): `/set-password#<token>` lets a new account's owner
// set their password, which signs them in.

const BASE = '/api/account-links';

export interface LinkAccount {
  name: string;
  email: string;
  expires_at: string;
}

const isLinkAccount = (v: unknown): v is LinkAccount =>
  isRecord(v) && typeof v.name === 'string' && typeof v.email === 'string' && typeof v.expires_at === 'string';

/**
 * POST /api/account-links/inspect: whose link it is; 410 used or expired
 * (`{"error": "This link was used already; ask an admin for a new one"}`), 404 unknown.
 */
export async function inspectLink(token: string, signal?: AbortSignal): Promise<LinkAccount> {
  return expectShape(await api.post<unknown>(`${BASE}/inspect`, { token }, signal), isLinkAccount, 'link');
}

/** POST /api/account-links/redeem: 200 and a session cookie (signed in); 400 `{"password": […]}`; 410, 404. */
export async function redeemLink(token: string, password: string): Promise<void> {
  await api.post<unknown>(`${BASE}/redeem`, { token, password });
}

/** A link's answer that means it will never work: used or expired (410), or unknown (404). */
export function isDeadLink(status: number): boolean {
  return status === 410 || status === 404;
}
