import { useCallback, useEffect, useState } from 'react';
import { type ApiError, isAbortError, toApiError } from '@/lib/api-client';

export type ResourceState<T> =
  | { status: 'loading' }
  | { status: 'success'; data: T }
  | { status: 'error'; error: ApiError };

export interface Resource<T> {
  state: ResourceState<T>;
  /** Loads again, showing the loading state (e.g. a Retry button). */
  reload: () => void;
  /** Loads again in the background, keeping what is shown until the answer arrives. */
  refresh: () => void;
  /** Replaces the loaded data (e.g. after a successful like or delete). */
  setData: (update: (data: T) => T) => void;
}

/**
 * Loads data with `load` when the component mounts and whenever `load` changes (wrap it in
 * `useCallback`). Requests still running when the component unmounts or a newer load
 * starts are aborted, so a late answer never overwrites a newer one.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [state, setState] = useState<ResourceState<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'success', data });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        setState({ status: 'error', error: toApiError(error) });
      },
    );
    return () => controller.abort();
  }, [load, generation]);

  const reload = useCallback(() => {
    setState({ status: 'loading' });
    setGeneration((g) => g + 1);
  }, []);

  const refresh = useCallback(() => {
    setGeneration((g) => g + 1);
  }, []);

  const setData = useCallback((update: (data: T) => T) => {
    setState((current) =>
      current.status === 'success' ? { status: 'success', data: update(current.data) } : current,
    );
  }, []);

  return { state, reload, refresh, setData };
}
