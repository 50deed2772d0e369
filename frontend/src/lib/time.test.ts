import { describe, expect, it } from 'vitest';
import { formatDateTime, formatRelative, parseTime } from './time';

const now = Date.parse('2026-12-07T13:00:00Z');
const ago = (ms: number) => new Date(now - ms);

describe('formatRelative', () => {
  it('says how long ago within a week', () => {
    expect(formatRelative(ago(10_000), now)).toBe('just now');
    expect(formatRelative(ago(5 * 60_000), now)).toBe('5 minutes ago');
    expect(formatRelative(ago(3 * 3_600_000), now)).toBe('3 hours ago');
    expect(formatRelative(ago(24 * 3_600_000), now)).toBe('yesterday');
    expect(formatRelative(ago(4 * 24 * 3_600_000), now)).toBe('4 days ago');
    expect(formatRelative(new Date(now + 2 * 24 * 3_600_000), now)).toBe('in 2 days');
    // Rounded to the nearest unit: an expiry 72 hours away, read a moment later, is in 3 days.
    expect(formatRelative(new Date(now + 72 * 3_600_000 - 5_000), now)).toBe('in 3 days');
    expect(formatRelative(ago(59.7 * 60_000), now)).toBe('1 hour ago');
  });

  it('gives the locale date and time past a week', () => {
    const old = ago(30 * 24 * 3_600_000);
    expect(formatRelative(old, now)).toBe(formatDateTime(old));
  });
});

describe('parseTime', () => {
  it('reads RFC 3339 and refuses anything else', () => {
    expect(parseTime('2026-12-07T13:01:25.123456Z')?.toISOString()).toBe('2026-12-07T13:01:25.123Z');
    expect(parseTime('yesterday')).toBeNull();
    expect(parseTime(null)).toBeNull();
  });
});
