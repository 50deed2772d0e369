import { describeError, toApiError } from '@/lib/api-client';

/**
 * A refused account change as one message for the control that made it: the field's own
 * errors (`{"role": […]}`), else the API's message (the last-admin rule's
 * `{"error": "… is the last enabled admin …"}`), else what went wrong.
 */
export function changeError(error: unknown, field: string): string {
  const e = toApiError(error);
  if (e.kind !== 'http' || e.status >= 500) return describeError(e);
  return e.fieldErrors[field]?.join(' ') ?? e.serverMessage ?? describeError(e);
}
