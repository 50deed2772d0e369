import { describeError, toApiError } from '@/lib/api-client';
import { isProductField, PRODUCT_FIELDS, type ProductErrors, type ProductField } from './validation';

/** How a failed save is shown on the product form. */
export interface SaveErrors {
  /** The server's own messages for the form's fields, shown next to them. */
  fields: ProductErrors;
  /** Everything else, shown in an alert at the top of the form. */
  top: string[];
  /** Where focus goes so the first message is read out: the top alert or a field. */
  focus: ProductField | 'top' | null;
}

/**
 * Maps whatever a save rejected with to the form's messages: field errors for the form's
 * fields next to them; the service's message, non-field errors and errors for other keys
 * at the top. Outages and server faults get one message a person can act on instead (not
 * "Internal server error"), and a refusal with nothing to show gets a message too.
 */
export function mapSaveError(error: unknown): SaveErrors {
  const e = toApiError(error);
  const fields: ProductErrors = {};
  let top: string[] = [];
  for (const [key, messages] of Object.entries(e.fieldErrors)) {
    if (isProductField(key)) fields[key] = messages.join(' ');
    else top.push(`${key}: ${messages.join(' ')}`);
  }
  top.unshift(...e.nonFieldErrors);
  if (e.serverMessage) top.unshift(e.serverMessage);
  if (e.kind !== 'http' || e.status >= 500) top = [describeError(e)];
  if (top.length === 0 && Object.keys(fields).length === 0) top.push(describeError(e));
  const focus = top.length > 0 ? 'top' : (PRODUCT_FIELDS.find((f) => fields[f]) ?? null);
  return { fields, top, focus };
}
