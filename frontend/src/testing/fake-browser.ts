import { act } from '@testing-library/react';
import { vi } from 'vitest';

/**
 * Stand-ins for browser APIs jsdom lacks, installed with `vi.stubGlobal` (call
 * `vi.unstubAllGlobals()` after the test, or rely on the files' afterEach).
 */

/** An `EventSource` the test drives: `emit('likes', [...])`, `fail()`, and so on. */
export class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];

  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readyState = 0;
  readonly url: string;
  readonly withCredentials = false;
  onopen = null;
  onmessage = null;
  onerror = null;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }

  get closed(): boolean {
    return this.readyState === FakeEventSource.CLOSED;
  }

  /** The connection is open. */
  open(): void {
    act(() => {
      this.readyState = FakeEventSource.OPEN;
      this.dispatchEvent(new Event('open'));
    });
  }

  /** The server sends `event: <type>` with `data` (JSON-encoded unless a string). */
  emit(type: string, data: unknown, lastEventId = ''): void {
    act(() => {
      this.dispatchEvent(
        new MessageEvent(type, { data: typeof data === 'string' ? data : JSON.stringify(data), lastEventId }),
      );
    });
  }

  /**
   * The connection fails: `reconnecting` as after a dropped connection (the browser tries
   * again itself), or for good, as after an error status such as a 503.
   */
  fail(reconnecting: boolean): void {
    act(() => {
      this.readyState = reconnecting ? FakeEventSource.CONNECTING : FakeEventSource.CLOSED;
      this.dispatchEvent(new Event('error'));
    });
  }

  static latest(): FakeEventSource {
    const source = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!source) throw new Error('no EventSource was opened');
    return source;
  }
}

export function installFakeEventSource(): void {
  FakeEventSource.instances = [];
  vi.stubGlobal('EventSource', FakeEventSource);
}

/** An `IntersectionObserver` whose targets the test brings into view with `intersect`. */
export class FakeIntersectionObserver {
  static instances: FakeIntersectionObserver[] = [];
  readonly targets = new Set<Element>();
  readonly root = null;
  readonly rootMargin: string;
  readonly thresholds = [0];

  constructor(
    private readonly callback: IntersectionObserverCallback,
    options?: IntersectionObserverInit,
  ) {
    this.rootMargin = options?.rootMargin ?? '0px';
    FakeIntersectionObserver.instances.push(this);
  }

  observe(target: Element): void {
    this.targets.add(target);
  }

  unobserve(target: Element): void {
    this.targets.delete(target);
  }

  disconnect(): void {
    this.targets.clear();
  }

  takeRecords(): IntersectionObserverEntry[] {
    return [];
  }

  /** Every live observer watching `target` is told it is (or is not) in view. */
  static intersect(target: Element, isIntersecting = true): void {
    act(() => {
      for (const observer of FakeIntersectionObserver.instances) {
        if (!observer.targets.has(target)) continue;
        const rect = target.getBoundingClientRect();
        const entry = {
          target,
          isIntersecting,
          intersectionRatio: isIntersecting ? 1 : 0,
          boundingClientRect: rect,
          intersectionRect: rect,
          rootBounds: null,
          time: performance.now(),
        } as IntersectionObserverEntry;
        observer.callback([entry], observer);
      }
    });
  }

  /** Whether any live observer watches `target`. */
  static watches(target: Element): boolean {
    return FakeIntersectionObserver.instances.some((o) => o.targets.has(target));
  }
}

export function installFakeIntersectionObserver(): void {
  FakeIntersectionObserver.instances = [];
  vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver);
}
