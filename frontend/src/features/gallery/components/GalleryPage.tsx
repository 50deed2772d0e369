import { useCallback, useEffect, useEffectEvent, useId, useLayoutEffect, useReducer, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { EmptyState } from '@/components/ui/EmptyState';
import { ErrorAlert } from '@/components/ui/ErrorAlert';
import { BoxIcon } from '@/components/ui/icons';
import { LoadingState } from '@/components/ui/LoadingState';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { describeError, isAbortError, toApiError } from '@/lib/api-client';
import type { Product } from '@/lib/product';
import { type LikeCount, listMyLikes, listShopPage, PAGE_SIZE } from '../api/shop-products';
import { initialWindow, mountedProducts, shownCount, windowReducer } from '../product-window';
import { useLiveLikes } from '../use-live-likes';
import { ProductCard } from './ProductCard';

/** Typing waits this long for a pause before searching. */
export const SEARCH_DEBOUNCE_MS = 250;
/** How far (CSS px) beyond the viewport a sentinel starts loading the next or previous page. */
const PREFETCH_MARGIN = '800px 0px';
/** The URL's `q` is at most this long (the API refuses more). */
const MAX_QUERY_LENGTH = 200;

/** The URL's `after`: a product id, anything else is the start of the list. */
function parseAfter(value: string | null): number {
  if (value === null || !/^\d{1,15}$/.test(value)) return 0;
  return Number(value);
}

/** `?q=…&after=…` for a search and position (both left out when empty). */
function gallerySearch(q: string, after: number): string {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (after > 0) params.set('after', String(after));
  const search = params.toString();
  return search ? `?${search}` : '';
}

/**
 * `paths.shop`: the shop's products as cards that shoppers can like, a page at a time.
 *
 * The URL holds the search (`q`) and the position (`after`: the id the page at the top of the
 * screen starts after), so a shared link or the back button shows the same results. See the
 * README's "Gallery at scale" for the design.
 */
export function GalleryPage() {
  useDocumentTitle('Shop');
  const [searchParams, setSearchParams] = useSearchParams();
  const urlQ = (searchParams.get('q') ?? '').trim().slice(0, MAX_QUERY_LENGTH);
  const urlAfter = parseAfter(searchParams.get('after'));

  const [state, dispatch] = useReducer(windowReducer, undefined, () => initialWindow(urlQ, urlAfter));
  const [notice, setNotice] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const spacerRef = useRef<HTMLDivElement>(null);
  const topSentinelRef = useRef<HTMLDivElement>(null);
  const bottomSentinelRef = useRef<HTMLDivElement>(null);
  /** The request of the first page being loaded (a new search aborts it). */
  const firstRequest = useRef<{ controller: AbortController; q: string; after: number } | null>(null);
  /** The one "more" or "earlier" request allowed at a time. */
  const pageRequest = useRef<AbortController | null>(null);
  const resyncRequest = useRef<AbortController | null>(null);
  /** A card to focus once it is on screen (after "Show more products" or going back to the start). */
  const focusAfterLoad = useRef<'first' | number | null>(null);
  /** When the stream last changed each product's count (see handleLiked). */
  const streamedAt = useRef(new Map<number, number>());

  // What this shopper liked before, so those cards show it from the first paint. Only a
  // nicety: if it cannot be read, the cards simply start unliked.
  const [likedBefore, setLikedBefore] = useState<ReadonlySet<number>>(new Set());
  useEffect(() => {
    const controller = new AbortController();
    listMyLikes(controller.signal).then(
      (ids) => setLikedBefore(new Set(ids)),
      () => undefined,
    );
    return () => controller.abort();
  }, []);

  // ---- Loading pages -------------------------------------------------------------------

  const abortAll = () => {
    firstRequest.current?.controller.abort();
    pageRequest.current?.abort();
    resyncRequest.current?.abort();
    firstRequest.current = pageRequest.current = resyncRequest.current = null;
  };

  const loadFirst = (q: string, after: number) => {
    // A new search or position: whatever was still on its way is stale.
    abortAll();
    const controller = new AbortController();
    const request = { controller, q, after };
    firstRequest.current = request;
    dispatch({ type: 'request', q, after });
    listShopPage({ q, after }, controller.signal).then(
      (page) => {
        // An older search answering late is ignored: only the newest request counts.
        if (controller.signal.aborted) return;
        firstRequest.current = null;
        dispatch({ type: 'first', q, after, page });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        firstRequest.current = null;
        dispatch({ type: 'failed', op: 'first', error: toApiError(error) });
      },
    );
  };

  // The URL decides what is shown. It also changes as the shopper scrolls (to a page already
  // on screen): that is no reason to load anything.
  const loadForUrl = useEffectEvent((q: string, after: number) => {
    const pending = firstRequest.current;
    if (pending) {
      if (pending.q === q && pending.after === after) return;
    } else if (state.shownQ === q && state.pages.some((p) => p.after === after)) {
      return;
    }
    loadFirst(q, after);
  });
  useEffect(() => loadForUrl(urlQ, urlAfter), [urlQ, urlAfter]);

  // Nothing answers into an unmounted page.
  const abortOnUnmount = useEffectEvent(abortAll);
  useEffect(() => () => abortOnUnmount(), []);

  /** The height of the top page on screen: the room it leaves when it is dropped. */
  const topPageHeight = () => {
    const starts = listRef.current?.querySelectorAll('[data-page-start]');
    if (!starts || starts.length < 2) return 0;
    return starts[1]!.getBoundingClientRect().top - starts[0]!.getBoundingClientRect().top;
  };

  const loadMore = (focusNew: boolean) => {
    const after = state.next;
    if (after === null || state.loading !== null || pageRequest.current || firstRequest.current) return;
    const controller = new AbortController();
    pageRequest.current = controller;
    dispatch({ type: 'start', op: 'more' });
    listShopPage({ q: state.shownQ ?? '', after }, controller.signal).then(
      (page) => {
        if (controller.signal.aborted) return;
        pageRequest.current = null;
        if (focusNew && page.products[0]) focusAfterLoad.current = page.products[0].id;
        dispatch({ type: 'more', after, page, droppedHeight: topPageHeight() });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        pageRequest.current = null;
        dispatch({ type: 'failed', op: 'more', error: toApiError(error) });
      },
    );
  };

  const loadEarlier = () => {
    const restore = state.above[state.above.length - 1];
    if (!restore || state.loading !== null || pageRequest.current || firstRequest.current) return;
    const controller = new AbortController();
    pageRequest.current = controller;
    dispatch({ type: 'start', op: 'earlier' });
    listShopPage({ q: state.shownQ ?? '', after: restore.after }, controller.signal).then(
      (page) => {
        if (controller.signal.aborted) return;
        pageRequest.current = null;
        dispatch({ type: 'earlier', after: restore.after, page });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbortError(error)) return;
        pageRequest.current = null;
        dispatch({ type: 'failed', op: 'earlier', error: toApiError(error) });
      },
    );
  };

  /** Fetches the mounted pages again in one request and merges the answer by id. */
  const resync = () => {
    const first = state.pages[0];
    if (!first || state.shownQ === null || firstRequest.current) return;
    resyncRequest.current?.abort();
    const controller = new AbortController();
    resyncRequest.current = controller;
    const limit = Math.max(PAGE_SIZE, Math.min(1000, mountedProducts(state).length));
    listShopPage({ q: state.shownQ, after: first.after, limit }, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) dispatch({ type: 'resynced', after: first.after, page });
      },
      // The counts shown stay as they are; the next update or resync corrects them.
      () => undefined,
    );
  };

  // ---- Live like counts ----------------------------------------------------------------

  useLiveLikes({
    onLikes: (counts: LikeCount[]) => {
      const now = performance.now();
      for (const { id } of counts) streamedAt.current.set(id, now);
      dispatch({ type: 'likes', counts });
    },
    onResync: resync,
  });

  // The shopper's own like shows at once. If the stream already brought this product's count
  // while the like was on its way, that count includes it: no second bump.
  const handleLiked = useCallback((id: number, sentAt: number) => {
    const streamed = streamedAt.current.get(id);
    if (streamed === undefined || streamed < sentAt) dispatch({ type: 'liked', id });
  }, []);

  const handleGone = useCallback((product: Product) => {
    setNotice(`“${product.title}” is no longer available, so we removed it from the list.`);
    dispatch({ type: 'removed', id: product.id });
  }, []);

  // ---- Search box: debounced into the URL ----------------------------------------------

  const [text, setText] = useState(urlQ);
  const [syncedQ, setSyncedQ] = useState(urlQ);
  if (urlQ !== syncedQ) {
    // The URL changed (back button, a link): the box shows its search.
    setSyncedQ(urlQ);
    if (text.trim() !== urlQ) setText(urlQ);
  }

  const commitSearch = useCallback(
    (value: string) => {
      // One history entry per visit, not one per keystroke; a new search starts at the top.
      void setSearchParams(gallerySearch(value.trim(), 0), { replace: true });
    },
    [setSearchParams],
  );

  useEffect(() => {
    if (text.trim() === urlQ) return;
    const timer = setTimeout(() => commitSearch(text), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, urlQ, commitSearch]);

  // ---- Position: the page at the top of the screen goes into the URL -------------------

  const reportPosition = useEffectEvent(() => {
    const first = state.pages[0];
    if (!first || state.loading === 'first' || state.shownQ !== urlQ) return;
    const line = window.innerHeight / 4;
    let top = first.after;
    for (const start of listRef.current?.querySelectorAll<HTMLElement>('[data-page-start]') ?? []) {
      if (start.getBoundingClientRect().top > line) break;
      top = Number(start.dataset.pageStart);
    }
    if (top !== urlAfter) void setSearchParams(gallerySearch(urlQ, top), { replace: true });
  });
  useEffect(() => {
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        reportPosition();
      });
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      window.removeEventListener('scroll', onScroll);
      cancelAnimationFrame(frame);
    };
  }, []);

  // ---- The window's DOM: spacer, focus, sentinels --------------------------------------

  const spacerHeight = state.above.reduce((sum, page) => sum + page.height, 0);
  useLayoutEffect(() => {
    // CSSOM, not a style attribute: the CSP forbids inline styles in markup.
    if (spacerRef.current) spacerRef.current.style.height = `${spacerHeight}px`;
  }, [spacerHeight]);

  useLayoutEffect(() => {
    const target = focusAfterLoad.current;
    if (target === null || state.loading !== null) return;
    const list = listRef.current;
    const card =
      target === 'first'
        ? list?.querySelector<HTMLElement>('article')
        : list?.querySelector<HTMLElement>(`[data-product-id="${target}"] article`);
    if (card) {
      focusAfterLoad.current = null;
      card.focus();
    }
  }, [state]);

  const onSentinel = useEffectEvent((which: 'more' | 'earlier') => {
    if (state.error) return; // a failed page waits for Retry rather than looping
    if (which === 'more') loadMore(false);
    else loadEarlier();
  });
  const firstAfter = state.pages[0]?.after;
  useEffect(() => {
    if (typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          onSentinel(entry.target === topSentinelRef.current ? 'earlier' : 'more');
        }
      },
      { rootMargin: PREFETCH_MARGIN },
    );
    // Observed again after every change, so a sentinel still in view loads the next page too.
    if (bottomSentinelRef.current) observer.observe(bottomSentinelRef.current);
    if (topSentinelRef.current) observer.observe(topSentinelRef.current);
    return () => observer.disconnect();
  }, [state.next, state.loading, state.error, state.above.length, firstAfter]);

  // ---- Rendering -----------------------------------------------------------------------

  const products = mountedProducts(state);
  const showing = state.shownQ !== null && !(state.error?.op === 'first');
  const searching = state.loading === 'first';
  const empty = showing && !searching && products.length === 0;
  const count = shownCount(state);
  const announcement = searching
    ? ''
    : empty
      ? state.shownQ
        ? `No products match “${state.shownQ}”`
        : state.after > 0
          ? 'No more products from here'
          : 'No products in the shop yet'
      : showing
        ? `Showing ${count} ${count === 1 ? 'product' : 'products'}${state.next === null ? ', the end of the list' : ''}`
        : '';
  const searchId = useId();
  const retryFirst = () => loadFirst(state.q, state.after);
  const backToStart = () => {
    focusAfterLoad.current = 'first';
    listRef.current?.closest('main')?.scrollIntoView?.({ block: 'start' });
    loadFirst(urlQ, 0);
  };

  return (
    <>
      <div className="mb-4">
        <h1 className="h2 mb-1">Our products</h1>
        <p className="text-body-secondary mb-0">Browse the shop and like the things you love.</p>
      </div>

      <form
        role="search"
        className="mb-4 gallery-search"
        onSubmit={(event) => {
          event.preventDefault();
          commitSearch(text);
        }}
      >
        <label htmlFor={searchId} className="form-label">
          Search products
        </label>
        <input
          id={searchId}
          type="search"
          className="form-control"
          value={text}
          maxLength={MAX_QUERY_LENGTH}
          autoComplete="off"
          placeholder="e.g. blue mug"
          onChange={(event) => setText(event.target.value)}
        />
      </form>

      {/* One polite announcement of what the list shows, after each search or page. */}
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="gallery-announcement">
        {announcement}
      </div>

      {notice ? (
        <DismissibleAlert variant="info" role="alert" onDismiss={() => setNotice(null)}>
          {notice}
        </DismissibleAlert>
      ) : null}

      {state.error?.op === 'first' ? (
        <ErrorAlert title="We couldn’t load the products." onRetry={retryFirst}>
          {describeError(state.error.error)}
        </ErrorAlert>
      ) : null}

      {!showing && searching ? <LoadingState label="Loading products…" /> : null}

      {empty && state.shownQ ? (
        <EmptyState
          title={`No products match “${state.shownQ}”`}
          icon={<BoxIcon />}
          action={
            <button
              type="button"
              className="btn btn-outline-primary"
              onClick={() => {
                setText('');
                commitSearch('');
              }}
            >
              Clear the search
            </button>
          }
        >
          Check the spelling, or try fewer or shorter words.
        </EmptyState>
      ) : null}

      {empty && !state.shownQ && state.after > 0 ? (
        <EmptyState title="No more products from here" icon={<BoxIcon />}>
          The products this link pointed to are gone.
        </EmptyState>
      ) : null}

      {empty && !state.shownQ && state.after === 0 ? (
        <EmptyState
          title="Nothing in the shop yet"
          icon={<BoxIcon />}
          action={
            <button type="button" className="btn btn-outline-primary" onClick={retryFirst}>
              Check again
            </button>
          }
        >
          New products are on their way. Check back soon!
        </EmptyState>
      ) : null}

      {showing && (state.after > 0 || state.above.length > 0 || (state.pages[0]?.after ?? 0) > 0) ? (
        <p className="mb-3">
          <Link to={gallerySearch(state.shownQ ?? '', 0)} onClick={backToStart}>
            Back to the first products
          </Link>
        </p>
      ) : null}

      {showing && products.length > 0 ? (
        <>
          <div ref={spacerRef} aria-hidden="true" data-testid="gallery-spacer" />
          {state.above.length > 0 ? (
            <div className="text-center mb-4">
              <div ref={topSentinelRef} data-testid="gallery-earlier-sentinel" />
              <LoadButton label="Show earlier products" loading={state.loading === 'earlier'} onClick={loadEarlier} />
            </div>
          ) : null}
          {state.error?.op === 'earlier' ? (
            <ErrorAlert title="We couldn’t load the earlier products." onRetry={loadEarlier}>
              {describeError(state.error.error)}
            </ErrorAlert>
          ) : null}

          <ul
            ref={listRef}
            className={`row row-cols-1 row-cols-sm-2 row-cols-lg-3 row-cols-xl-4 g-4 list-unstyled mb-0${searching ? ' gallery-stale' : ''}`}
            aria-label="Products"
            aria-busy={searching || undefined}
          >
            {state.pages.map((page) =>
              page.products.map((product, index) => (
                <li
                  className="col"
                  key={product.id}
                  data-product-id={product.id}
                  data-page-start={index === 0 ? page.after : undefined}
                >
                  <ProductCard
                    product={product}
                    likedBefore={likedBefore.has(product.id)}
                    onLiked={handleLiked}
                    onGone={handleGone}
                  />
                </li>
              )),
            )}
          </ul>

          {state.error?.op === 'more' ? (
            <div className="mt-4">
              <ErrorAlert title="We couldn’t load more products." onRetry={() => loadMore(true)}>
                {describeError(state.error.error)}
              </ErrorAlert>
            </div>
          ) : null}
          {state.next !== null ? (
            <div className="text-center mt-4">
              <div ref={bottomSentinelRef} data-testid="gallery-more-sentinel" />
              <LoadButton label="Show more products" loading={state.loading === 'more'} onClick={() => loadMore(true)} />
            </div>
          ) : (
            <p className="text-center text-body-secondary mt-4 mb-0">That’s everything{state.shownQ ? ' that matches' : ''}.</p>
          )}
        </>
      ) : null}
    </>
  );
}

interface LoadButtonProps {
  label: string;
  loading: boolean;
  onClick: () => void;
}

/** The keyboard's way to the next or previous page; it keeps focus while the page loads. */
function LoadButton({ label, loading, onClick }: LoadButtonProps) {
  return (
    <button
      type="button"
      className={`btn btn-outline-primary${loading ? ' disabled' : ''}`}
      aria-disabled={loading || undefined}
      onClick={() => {
        if (!loading) onClick();
      }}
    >
      {loading ? <ButtonSpinner /> : null}
      {label}
    </button>
  );
}
