import { useEffect, useEffectEvent } from 'react';
import { isLikeCountList, type LikeCount, PRODUCT_EVENTS_URL } from './api/shop-products';

/** Waits before opening the stream again after the server refused it (e.g. 503 past the cap). */
export const RECONNECT_DELAYS_MS = [2_000, 5_000, 15_000, 30_000];

export interface LiveLikesHandlers {
  /** `event: likes`: the current counts of the products whose count changed. */
  onLikes: (counts: LikeCount[]) => void;
  /** `event: resync`, or a stream opened again after a gap: refetch what is shown. */
  onResync: () => void;
}

/**
 * Listens to GET /flask/api/products/events while the calling component is mounted (the
 * stream is closed on unmount).
 *
 * `EventSource` reconnects by itself after a dropped connection (sending `Last-Event-ID`,
 * so the server replays what was missed or sends `resync`). It gives up for good when the
 * server answers with an error status (a 503 past the cap on streams): then this hook opens a
 * new stream after a growing delay, and asks for a resync once it is open, since a new
 * `EventSource` cannot resume where the old one stopped. Without `EventSource` (old browsers,
 * jsdom) the counts simply stay as loaded.
 */
export function useLiveLikes({ onLikes, onResync }: LiveLikesHandlers): void {
  const handleLikes = useEffectEvent(onLikes);
  const handleResync = useEffectEvent(onResync);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    const open = () => {
      const es = new EventSource(PRODUCT_EVENTS_URL);
      source = es;
      const reopened = failures > 0;
      es.addEventListener('open', () => {
        failures = 0;
        if (reopened) handleResync();
      });
      es.addEventListener('likes', (event: MessageEvent<string>) => {
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        if (isLikeCountList(data)) handleLikes(data);
      });
      es.addEventListener('resync', () => handleResync());
      es.addEventListener('error', () => {
        // CONNECTING: the browser is already reconnecting. CLOSED: it gave up; try later.
        if (es.readyState !== EventSource.CLOSED) return;
        es.close();
        const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)]!;
        failures += 1;
        timer = setTimeout(open, delay);
      });
    };

    open();
    return () => {
      clearTimeout(timer);
      source?.close();
    };
  }, []);
}
