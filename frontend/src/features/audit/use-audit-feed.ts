import { useCallback, useEffect, useRef, useState } from 'react';
import { type ApiError, isAbortError, toApiError } from '@/lib/api-client';
import type { AuditEntry } from '@/lib/audit-log';
import { listEntries } from './api/audit';

interface Loaded {
  /** The request (attempt and first page's URL) this answers. */
  key: string;
  entries: AuditEntry[];
  next: string | null;
  error: ApiError | null;
}

interface Older {
  key: string;
  status: 'loading' | 'error';
  error: ApiError | null;
}

export interface AuditFeed {
  /** Of the first page: `loading` until the answer for the current URL (or a Retry) came. */
  status: 'loading' | 'success' | 'error';
  /** Every entry loaded for the current URL, newest first. */
  entries: AuditEntry[];
  error: ApiError | null;
  /** True while older entries follow (the last page had `rel="next"`). */
  hasOlder: boolean;
  olderStatus: 'idle' | 'loading' | 'error';
  olderError: ApiError | null;
  /** How many entries the last "Older entries" added (for the status message). */
  lastAdded: number;
  /** Asks for the first page again (Retry). */
  reload: () => void;
  /** Loads the next older page and appends it. */
  loadOlder: () => void;
}

/**
 * The entries of the audit log or a product's history from `url` on: the first page when
 * `url` changes (aborting what was on its way; a late answer for an older URL is dropped),
 * then older pages appended on request, following each page's `Link: rel="next"`.
 */
export function useAuditFeed(url: string): AuditFeed {
  const [attempt, setAttempt] = useState(0);
  const key = `${attempt} ${url}`;
  const [loaded, setLoaded] = useState<Loaded>({ key: '', entries: [], next: null, error: null });
  const [older, setOlder] = useState<Older | null>(null);
  const [lastAdded, setLastAdded] = useState(0);
  const olderRequest = useRef<AbortController | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const requestKey = `${attempt} ${url}`;
    listEntries(url, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) setLoaded({ key: requestKey, entries: page.entries, next: page.next, error: null });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        setLoaded({ key: requestKey, entries: [], next: null, error: toApiError(error) });
      },
    );
    return () => {
      controller.abort();
      olderRequest.current?.abort();
    };
  }, [url, attempt]);

  const current = loaded.key === key;
  const reload = useCallback(() => setAttempt((a) => a + 1), []);

  const next = current ? loaded.next : null;
  const loadOlder = useCallback(() => {
    if (!next) return;
    olderRequest.current?.abort();
    const controller = new AbortController();
    olderRequest.current = controller;
    setOlder({ key, status: 'loading', error: null });
    listEntries(next, controller.signal).then(
      (page) => {
        if (controller.signal.aborted) return;
        setLoaded((l) => {
          if (l.key !== key) return l;
          const seen = new Set(l.entries.map((e) => e.id));
          return { ...l, entries: [...l.entries, ...page.entries.filter((e) => !seen.has(e.id))], next: page.next };
        });
        setLastAdded(page.entries.length);
        setOlder(null);
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        setOlder({ key, status: 'error', error: toApiError(error) });
      },
    );
  }, [key, next]);

  const olderNow = older?.key === key ? older : null;
  return {
    status: !current ? 'loading' : loaded.error ? 'error' : 'success',
    entries: current ? loaded.entries : [],
    error: current ? loaded.error : null,
    hasOlder: next !== null,
    olderStatus: olderNow?.status ?? 'idle',
    olderError: olderNow?.error ?? null,
    lastAdded,
    reload,
    loadOlder,
  };
}
