import { api, expectShape } from '@/lib/api-client';
import { type AuditEntry, parseAuditEntries } from '@/lib/audit-log';
import { isArrayOf, isRecord } from '@/lib/guards';
import { linkPath } from '@/lib/link-header';

// admin-svc's audit log: GET /api/audit and GET /api/products/{id}/history (newest first,
// keyset pages: `Link: <…?before=ID&limit=N>; rel="next"` while older entries follow).

/** What the audit log is filtered by; absent means any. */
export interface AuditFilters {
  action?: string | undefined;
  /** An account id. */
  actor?: number | undefined;
  /** A product id. */
  product?: number | undefined;
}

/** The first page of the audit log, filtered. */
export function auditUrl(filters: AuditFilters, limit?: number): string {
  const params = new URLSearchParams();
  if (filters.action) params.set('action', filters.action);
  if (filters.actor !== undefined) params.set('actor', String(filters.actor));
  if (filters.product !== undefined) params.set('product', String(filters.product));
  if (limit !== undefined) params.set('limit', String(limit));
  const search = params.toString();
  return search === '' ? '/api/audit' : `/api/audit?${search}`;
}

/** The first page of one product's history. */
export function productHistoryUrl(id: number | string, limit?: number): string {
  const path = `/api/products/${encodeURIComponent(String(id))}/history`;
  return limit === undefined ? path : `${path}?limit=${limit}`;
}

/** A page of entries and the path of the next (older) one, null at the oldest. */
export interface AuditPage {
  entries: AuditEntry[];
  next: string | null;
}

/**
 * One page of entries at `url` (from {@link auditUrl}, {@link productHistoryUrl} or a
 * previous page's `next`). 404 for the history of a product that never existed.
 */
export async function listEntries(url: string, signal?: AbortSignal): Promise<AuditPage> {
  const { body, headers } = await api.getWithHeaders<unknown>(url, signal);
  const entries = parseAuditEntries(body);
  return { entries, next: entries.length > 0 ? linkPath(headers.get('Link')) : null };
}

/** An account to filter the log by. */
export interface Actor {
  id: number;
  name: string;
  email: string;
}

const isActor = (v: unknown): v is Actor =>
  isRecord(v) && typeof v.id === 'number' && typeof v.name === 'string' && typeof v.email === 'string';

/** GET /api/admins (admins only): the accounts, for the actor filter. */
export async function listActors(signal?: AbortSignal): Promise<Actor[]> {
  return expectShape(await api.get<unknown>('/api/admins', signal), isArrayOf(isActor), 'account list');
}
