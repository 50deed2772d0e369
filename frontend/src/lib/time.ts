/**
 * Dates the APIs send (RFC 3339, UTC) as people read them: "5 minutes ago" for recent
 * ones, the reader's locale date and time otherwise (and always in a tooltip).
 */

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A timestamp as a Date, or null when it cannot be read. */
export function parseTime(value: string | null | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The reader's locale date and time: "07/12/2026, 13:01". */
export function formatDateTime(date: Date): string {
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** The reader's locale date: "7 Dec 2026". */
export function formatDate(date: Date): string {
  return date.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/**
 * "just now", "5 minutes ago", "3 hours ago", "yesterday", "4 days ago" within a week
 * (either way: "in 2 days" for a future expiry); the locale date and time past that.
 */
export function formatRelative(date: Date, now: number = Date.now()): string {
  const diff = date.getTime() - now;
  const abs = Math.abs(diff);
  if (abs < MINUTE) return diff <= 0 ? 'just now' : 'in less than a minute';
  const sign = diff < 0 ? -1 : 1;
  const minutes = Math.round(abs / MINUTE);
  if (minutes < 60) return relative.format(sign * minutes, 'minute');
  const hours = Math.round(abs / HOUR);
  if (hours < 24) return relative.format(sign * hours, 'hour');
  const days = Math.round(abs / DAY);
  if (days < 7) return relative.format(sign * days, 'day');
  return formatDateTime(date);
}
