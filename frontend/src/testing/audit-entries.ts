/** An audit entry as admin-svc sends it (kept local: src/testing imports no feature). */
export interface FakeAuditEntry {
  id: number;
  at: string;
  action: string;
  actor: { user_id: number | null; name: string | null; token: string | null };
  product_id: number | null;
  product_version: number | null;
  account_id: number | null;
  changes: Record<string, { old: unknown; new: unknown }> | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
  trace_id: string | null;
}

/** `minutes` ago, as the API writes times. */
export function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

/** An entry: by default Ada Lovelace renaming product 7 "Mug" to "Big mug" (version 4) 5 minutes ago. */
export function auditEntry(overrides: Partial<FakeAuditEntry> = {}): FakeAuditEntry {
  return {
    id: 42,
    at: minutesAgo(5),
    action: 'product.update',
    actor: { user_id: 3, name: 'Ada Lovelace', token: null },
    product_id: 7,
    product_version: 4,
    account_id: null,
    changes: { title: { old: 'Mug', new: 'Big mug' } },
    detail: null,
    ip: '203.0.113.9',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    ...overrides,
  };
}
