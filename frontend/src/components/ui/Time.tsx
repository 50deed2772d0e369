import { formatDateTime, formatRelative, parseTime } from '@/lib/time';

interface TimeProps {
  /** An RFC 3339 timestamp from an API; null for "never". */
  value: string | null | undefined;
  /** Shown for null (e.g. "Never"). */
  fallback?: string;
  /** `relative` (default): "5 minutes ago"; `absolute`: the locale date and time. */
  format?: 'relative' | 'absolute';
}

/** A timestamp as a `<time>` element, with the full locale date and time as its tooltip. */
export function Time({ value, fallback = '—', format = 'relative' }: TimeProps) {
  const date = parseTime(value);
  if (!date) return <>{value ? value : fallback}</>;
  const full = formatDateTime(date);
  return (
    <time dateTime={date.toISOString()} title={full}>
      {format === 'relative' ? formatRelative(date) : full}
    </time>
  );
}
