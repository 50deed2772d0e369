import { api, expectShape } from '@/lib/api-client';
import { isRecord } from '@/lib/guards';
import { parseRole, type Role } from '@/lib/roles';

// admin-svc's /api/auth: the admin's sign-in session (an HttpOnly cookie the app never sees).

const BASE = '/api/auth';

/**
 * The signed-in account and its role. With ADMIN_AUTH=disabled admin-svc answers id 0,
 * "Anyone (…)".
 */
export interface Admin {
  id: number;
  name: string;
  email: string;
  role: Role;
}

type AdminJson = Omit<Admin, 'role'> & { role?: unknown };

export function isAdmin(value: unknown): value is AdminJson {
  return isRecord(value) && typeof value.id === 'number' && typeof value.name === 'string' && typeof value.email === 'string';
}

/** The account with its role read (see `parseRole`: none is an admin-svc from before roles). */
function toAdmin(value: AdminJson): Admin {
  return { id: value.id, name: value.name, email: value.email, role: parseRole(value.role) };
}

/** True when admin-svc runs with ADMIN_AUTH=disabled: nobody signs in or out. */
export function isAuthDisabled(admin: Admin): boolean {
  return admin.id === 0;
}

export interface Credentials {
  email: string;
  password: string;
}

/**
 * POST /api/auth/login: 200 with the admin and a session cookie; 400 field errors; 401
 * wrong email or password; 429 too many failures (try later); 503 sign-in unavailable.
 */
export async function signIn(credentials: Credentials): Promise<Admin> {
  const body: Credentials = { email: credentials.email, password: credentials.password };
  return toAdmin(expectShape(await api.post<unknown>(`${BASE}/login`, body), isAdmin, 'sign-in answer'));
}

/** POST /api/auth/logout: 204; the session is deleted on the server. */
export async function signOut(): Promise<void> {
  await api.post(`${BASE}/logout`);
}

/** GET /api/auth/me: the signed-in account and its role; 401 when there is no session (or it ended). */
export async function getSignedInAdmin(signal?: AbortSignal): Promise<Admin> {
  return toAdmin(expectShape(await api.get<unknown>(`${BASE}/me`, signal), isAdmin, 'admin'));
}
