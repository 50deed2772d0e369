import { api, expectShape } from '@/lib/api-client';
import { isArrayOf, isRecord } from '@/lib/guards';

// admin-svc's /api/auth for one's own account (any role): password and sessions.

const BASE = '/api/auth';

/** PUT /api/auth/password: 204, and one's other sessions end; 400 `{"current_password": ["Wrong password."]}` or `{"new_password": […]}`. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await api.put(`${BASE}/password`, { current_password: currentPassword, new_password: newPassword });
}

export interface Session {
  id: string;
  created_at: string;
  last_seen_at: string;
  user_agent: string | null;
  ip: string | null;
  /** The session of this browser. */
  current: boolean;
}

function isSession(value: unknown): value is Session {
  return (
    isRecord(value) &&
    (typeof value.id === 'string' || typeof value.id === 'number') &&
    typeof value.created_at === 'string' &&
    typeof value.last_seen_at === 'string' &&
    (value.user_agent == null || typeof value.user_agent === 'string') &&
    (value.ip == null || typeof value.ip === 'string') &&
    typeof value.current === 'boolean'
  );
}

/** GET /api/auth/sessions: one's sessions, newest first. */
export async function listSessions(signal?: AbortSignal): Promise<Session[]> {
  const sessions = expectShape(await api.get<unknown>(`${BASE}/sessions`, signal), isArrayOf(isSession), 'session list');
  return sessions.map((s) => ({ ...s, id: String(s.id), user_agent: s.user_agent ?? null, ip: s.ip ?? null }));
}

/** DELETE /api/auth/sessions/{id}: 204, that session ends; 404 for an id not one's own (or ended). */
export async function endSession(id: string): Promise<void> {
  await api.delete(`${BASE}/sessions/${encodeURIComponent(id)}`);
}

/** POST /api/auth/sessions/sign-out-others: how many sessions ended. */
export async function signOutOthers(): Promise<number> {
  const isAnswer = (v: unknown): v is { signed_out: number } => isRecord(v) && typeof v.signed_out === 'number';
  return expectShape(await api.post<unknown>(`${BASE}/sessions/sign-out-others`), isAnswer, 'sign-out answer').signed_out;
}
