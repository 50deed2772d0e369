import { renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, installFakeEventSource } from '@/testing/fake-browser';
import { RECONNECT_DELAYS_MS, useLiveLikes } from './use-live-likes';

function renderLiveLikes() {
  const onLikes = vi.fn();
  const onResync = vi.fn();
  const hook = renderHook(() => useLiveLikes({ onLikes, onResync }));
  return { ...hook, onLikes, onResync };
}

beforeEach(() => {
  installFakeEventSource();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useLiveLikes', () => {
  it('opens one stream of the shop’s events and passes on like counts', () => {
    const { onLikes, onResync } = renderLiveLikes();
    expect(FakeEventSource.instances).toHaveLength(1);
    const stream = FakeEventSource.latest();
    expect(stream.url).toBe('/flask/api/products/events');
    stream.open();
    stream.emit('likes', [{ id: 12, likes: 40 }, { id: 97, likes: 3 }], '7');
    expect(onLikes).toHaveBeenCalledExactlyOnceWith([
      { id: 12, likes: 40 },
      { id: 97, likes: 3 },
    ]);
    expect(onResync).not.toHaveBeenCalled();
  });

  it('ignores likes data that is not a list of counts', () => {
    const { onLikes } = renderLiveLikes();
    const stream = FakeEventSource.latest();
    stream.emit('likes', 'not json');
    stream.emit('likes', { id: 1, likes: 2 });
    stream.emit('likes', [{ id: '1', likes: 2 }]);
    expect(onLikes).not.toHaveBeenCalled();
  });

  it('asks for a resync on `event: resync`', () => {
    const { onResync } = renderLiveLikes();
    FakeEventSource.latest().emit('resync', {});
    expect(onResync).toHaveBeenCalledOnce();
  });

  it('closes the stream on unmount', () => {
    const { unmount } = renderLiveLikes();
    const stream = FakeEventSource.latest();
    unmount();
    expect(stream.closed).toBe(true);
  });

  it('leaves reconnecting after a dropped connection to the browser', () => {
    vi.useFakeTimers();
    renderLiveLikes();
    FakeEventSource.latest().fail(true);
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('opens a new stream after a refusal (503), later each time, and resyncs once it is open', () => {
    vi.useFakeTimers();
    const { onResync, unmount } = renderLiveLikes();
    const first = FakeEventSource.latest();
    first.fail(false);
    expect(first.closed).toBe(true);
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[0]! - 1);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);

    // Refused again: the wait grows.
    FakeEventSource.latest().fail(false);
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[0]!);
    expect(FakeEventSource.instances).toHaveLength(2);
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[1]! - RECONNECT_DELAYS_MS[0]!);
    expect(FakeEventSource.instances).toHaveLength(3);

    // Open at last: what was missed meanwhile is fetched again.
    expect(onResync).not.toHaveBeenCalled();
    FakeEventSource.latest().open();
    expect(onResync).toHaveBeenCalledOnce();

    // A later refusal starts from the shortest wait again...
    FakeEventSource.latest().fail(false);
    vi.advanceTimersByTime(RECONNECT_DELAYS_MS[0]!);
    expect(FakeEventSource.instances).toHaveLength(4);
    // ...and unmounting cancels a pending one.
    FakeEventSource.latest().fail(false);
    unmount();
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(4);
  });

  it('does nothing where EventSource does not exist', () => {
    vi.stubGlobal('EventSource', undefined);
    const { onLikes, unmount } = renderLiveLikes();
    unmount();
    expect(onLikes).not.toHaveBeenCalled();
  });
});
