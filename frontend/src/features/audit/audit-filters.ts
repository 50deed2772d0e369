import { type AuditAction, isAuditAction } from '@/lib/audit-log';
import { paths } from '@/lib/paths';
import type { AuditFilters } from './api/audit';

/** The audit page's filters from its URL (`?action=&actor=&product=`); anything unknown is left out. */
export function parseAuditFilters(params: URLSearchParams): AuditFilters & { action?: AuditAction | undefined } {
  const action = params.get('action');
  const id = (name: string) => {
    const value = params.get(name) ?? '';
    const n = Number(value);
    return /^\d+$/.test(value) && Number.isSafeInteger(n) && n > 0 ? n : undefined;
  };
  return { action: isAuditAction(action) ? action : undefined, actor: id('actor'), product: id('product') };
}

/** The audit page's URL for filters (none: `/admin/audit`). */
export function auditHref(filters: AuditFilters): string {
  const params = new URLSearchParams();
  if (filters.action) params.set('action', filters.action);
  if (filters.actor !== undefined) params.set('actor', String(filters.actor));
  if (filters.product !== undefined) params.set('product', String(filters.product));
  const search = params.toString();
  return search === '' ? paths.audit : `${paths.audit}?${search}`;
}

export function hasFilters(filters: AuditFilters): boolean {
  return filters.action !== undefined || filters.actor !== undefined || filters.product !== undefined;
}
