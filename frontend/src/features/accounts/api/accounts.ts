import { api, expectShape } from '@/lib/api-client';
import { isArrayOf, isRecord } from '@/lib/guards';
import { isRole, type Role } from '@/lib/roles';

// admin-svc's /api/admins (role `admin` only): the accounts and their one-time sign-in links.

const BASE = '/api/admins';

export interface Account {
  id: number;
  name: string;
  email: string;
  role: Role;
  disabled: boolean;
  /** False until the owner has used their one-time link. */
  password_set: boolean;
  created_at: string;
  last_sign_in_at: string | null;
}

export function isAccount(value: unknown): value is Account {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.name === 'string' &&
    typeof value.email === 'string' &&
    isRole(value.role) &&
    typeof value.disabled === 'boolean' &&
    typeof value.password_set === 'boolean' &&
    typeof value.created_at === 'string' &&
    (value.last_sign_in_at === null || typeof value.last_sign_in_at === 'string')
  );
}

/** A one-time link for an account's owner to set their password: `/set-password#<token>`. */
export interface SignInLink {
  link: string;
  expires_at: string;
}

const isSignInLink = (v: unknown): v is SignInLink => isRecord(v) && typeof v.link === 'string' && typeof v.expires_at === 'string';

export interface NewAccount {
  name: string;
  email: string;
  role: Role;
}

/** GET /api/admins: every account, by id. */
export async function listAccounts(signal?: AbortSignal): Promise<Account[]> {
  return expectShape(await api.get<unknown>(BASE, signal), isArrayOf(isAccount), 'account list');
}

/**
 * POST /api/admins: 201 the account and its owner's one-time link (72 hours);
 * 400 `{"email": ["An account with this email exists."]}` and other field errors.
 */
export async function createAccount(input: NewAccount): Promise<{ admin: Account } & SignInLink> {
  const body: NewAccount = { name: input.name, email: input.email, role: input.role };
  const answer = await api.post<unknown>(BASE, body);
  const isCreated = (v: unknown): v is { admin: Account } & SignInLink => isSignInLink(v) && isRecord(v) && isAccount(v.admin);
  return expectShape(answer, isCreated, 'new account');
}

export interface AccountChange {
  name?: string;
  role?: Role;
  disabled?: boolean;
}

/**
 * PATCH /api/admins/{id}: 200 the account; disabling ends its sessions and tokens at once;
 * 400 `{"error": "… is the last enabled admin …"}` when no enabled admin would be left.
 */
export async function updateAccount(id: number, change: AccountChange): Promise<Account> {
  return expectShape(await api.patch<unknown>(`${BASE}/${id}`, change), isAccount, 'account');
}

/** POST /api/admins/{id}/link: 201 a new one-time link; earlier unused ones stop working. */
export async function createSignInLink(id: number): Promise<SignInLink> {
  return expectShape(await api.post<unknown>(`${BASE}/${id}/link`), isSignInLink, 'sign-in link');
}

/** The full address of a link the API gives as a path (`/set-password#…`). */
export function linkUrl(link: string): string {
  return new URL(link, window.location.origin).href;
}
