import { useCallback, useEffect, useMemo, useState } from 'react';
import { type ApiError, isAbortError, toApiError } from '@/lib/api-client';
import { listProductPage, type ProductPage } from './api/products';
import { apiSearch, type ListQuery, parseListQuery } from './list-query';

interface Loaded {
  /** The request (attempt and API query string) this outcome answers. */
  key: string;
  /** The API query string of the page in `data`. */
  search: string;
  data: ProductPage | null;
  error: ApiError | null;
}

export interface ProductPageResource {
  /** `loading` while the answer for the current query (or a reload) is awaited. */
  status: 'loading' | 'success' | 'error';
  /**
   * The last page loaded: while the next one loads it stays (for the table to show it
   * dimmed rather than blank); after a failure it is null.
   */
  data: ProductPage | null;
  /** The query `data` answers (older than the current one while loading). */
  dataQuery: ListQuery | null;
  error: ApiError | null;
  /** Asks for the current page again (Retry, Refresh, after a delete). */
  reload: () => void;
  /** Changes the shown page in place (a deleted row goes before the refetch answers). */
  setData: (update: (data: ProductPage) => ProductPage) => void;
}

/**
 * Loads the numbered page of the catalogue for `query`, again whenever it changes. Each
 * request is aborted when a newer one starts (or the page goes away), and an answer is
 * only taken while its request is the current one: an older answer arriving after a newer
 * one is dropped, never shown.
 */
export function useProductPage(query: ListQuery): ProductPageResource {
  const search = apiSearch(query);
  const [attempt, setAttempt] = useState(0);
  const key = `${attempt}${search}`;
  const [loaded, setLoaded] = useState<Loaded>({ key: '', search: '', data: null, error: null });

  useEffect(() => {
    const controller = new AbortController();
    const requestKey = `${attempt}${search}`;
    listProductPage(search, controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        setLoaded({ key: requestKey, search, data, error: null });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        setLoaded({ key: requestKey, search, data: null, error: toApiError(error) });
      },
    );
    return () => controller.abort();
  }, [search, attempt]);

  const reload = useCallback(() => setAttempt((a) => a + 1), []);
  const setData = useCallback((update: (data: ProductPage) => ProductPage) => {
    setLoaded((current) => (current.data ? { ...current, data: update(current.data) } : current));
  }, []);

  // The API's query string uses the page URL's names, so it reads back as the same query.
  const dataQuery = useMemo(
    () => (loaded.data ? parseListQuery(new URLSearchParams(loaded.search)) : null),
    [loaded.data, loaded.search],
  );
  const status = loaded.key !== key ? 'loading' : loaded.error ? 'error' : 'success';
  return { status, data: loaded.data, dataQuery, error: loaded.error, reload, setData };
}
