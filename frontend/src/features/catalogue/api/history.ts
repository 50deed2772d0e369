import { api } from '@/lib/api-client';
import { type AuditEntry, parseAuditEntries } from '@/lib/audit-log';

/** GET /api/products/{id}/history?limit=N: the product's latest changes, newest first. */
export async function getRecentHistory(id: number | string, limit: number, signal?: AbortSignal): Promise<AuditEntry[]> {
  const path = `/api/products/${encodeURIComponent(String(id))}/history?limit=${limit}`;
  return parseAuditEntries(await api.get<unknown>(path, signal));
}
