import { api, expectShape } from '@/lib/api-client';
import { isArrayOf, isRecord } from '@/lib/guards';

// admin-svc's /api/tokens: API tokens for scripts (one's own; an admin sees every live one).

const BASE = '/api/tokens';

export interface ApiToken {
  id: number;
  name: string;
  /** Whose it is; null for a token made with `admin-api create-token` (acts as an admin). */
  owner: { id: number; name: string } | null;
  created_at: string;
  last_used_at: string | null;
  /** Null: never expires. */
  expires_at: string | null;
  expired: boolean;
}

const isOwner = (v: unknown): v is ApiToken['owner'] =>
  v === null || (isRecord(v) && typeof v.id === 'number' && typeof v.name === 'string');
const isTimeOrNull = (v: unknown) => v === null || typeof v === 'string';

export function isApiToken(value: unknown): value is ApiToken {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.name === 'string' &&
    isOwner(value.owner ?? null) &&
    typeof value.created_at === 'string' &&
    isTimeOrNull(value.last_used_at ?? null) &&
    isTimeOrNull(value.expires_at ?? null) &&
    typeof value.expired === 'boolean'
  );
}

/** A token just made: its entry and the secret, shown this once. */
export type NewToken = ApiToken & { token: string };

const isNewToken = (v: unknown): v is NewToken => isApiToken(v) && isRecord(v) && typeof v.token === 'string';

export interface TokenInput {
  name: string;
  /** 1 to 3,650; absent: never expires. */
  expires_in_days?: number;
}

/** GET /api/tokens: the live tokens one may see. */
export async function listTokens(signal?: AbortSignal): Promise<ApiToken[]> {
  const tokens = expectShape(await api.get<unknown>(BASE, signal), isArrayOf(isApiToken), 'token list');
  return tokens.map((t) => ({ ...t, owner: t.owner ?? null, last_used_at: t.last_used_at ?? null, expires_at: t.expires_at ?? null }));
}

/** POST /api/tokens: 201 with `"token": "shop_…"`; 400 `{"name": ["You already have a token with this name."]}`. */
export async function createToken(input: TokenInput): Promise<NewToken> {
  const body: TokenInput = { name: input.name };
  if (input.expires_in_days !== undefined) body.expires_in_days = input.expires_in_days;
  return expectShape(await api.post<unknown>(BASE, body), isNewToken, 'new token');
}

/** DELETE /api/tokens/{id}: 204, revoked at once; 404 for a token one may not see (or gone). */
export async function revokeToken(id: number): Promise<void> {
  await api.delete(`${BASE}/${id}`);
}
