import { useCallback, useEffect, useEffectEvent, useState } from 'react';

/**
 * For forms that move focus to their messages after a failed submit: returns `request`,
 * which focuses `find(target)` once the next render (with the messages) is on screen. A
 * request for the same target again focuses it again.
 */
export function useFocusRequest<K extends string>(find: (target: K) => HTMLElement | null): (target: K) => void {
  const [request, setRequest] = useState<{ target: K; seq: number } | null>(null);
  const focus = useEffectEvent((target: K) => find(target)?.focus());
  useEffect(() => {
    if (request) focus(request.target);
  }, [request]);
  return useCallback((target: K) => setRequest((r) => ({ target, seq: (r?.seq ?? 0) + 1 })), []);
}
