import { vi } from 'vitest';

/** One canned answer. */
export type MockReply =
  | { status?: number; json?: unknown; text?: string; contentType?: string; headers?: Record<string, string> }
  | 'network-error'
  /** Never answers (to see loading states). */
  | 'pending';

export interface RecordedCall {
  method: string;
  url: string;
  body: unknown;
  credentials: RequestCredentials | undefined;
  /** The request's headers beyond Accept and Content-Type (e.g. If-Match); undefined when none. */
  headers?: Record<string, string> | undefined;
}

function extraHeaders(init: RequestInit | undefined): Record<string, string> | undefined {
  const extra: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => {
    if (name !== 'accept' && name !== 'content-type') extra[name] = value;
  });
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/**
 * Replaces `fetch` with canned answers by "METHOD /path". A list of replies is used in
 * order (the last one repeats). Unknown requests fail the test loudly.
 */
export function mockFetch(routes: Record<string, MockReply | MockReply[]>) {
  const calls: RecordedCall[] = [];
  const counters = new Map<string, number>();
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    const key = `${method} ${url}`;
    let body: unknown;
    if (typeof init?.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    calls.push({ method, url, body, credentials: init?.credentials, headers: extraHeaders(init) });
    const route = routes[key];
    if (route === undefined) {
      return Promise.reject(new Error(`Unexpected request in test: ${key}`));
    }
    const replies = Array.isArray(route) ? route : [route];
    const n = counters.get(key) ?? 0;
    counters.set(key, n + 1);
    const reply = replies[Math.min(n, replies.length - 1)]!;
    if (reply === 'network-error') return Promise.reject(new TypeError('Failed to fetch'));
    if (reply === 'pending') {
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError')));
      });
    }
    const status = reply.status ?? 200;
    const text = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
    const contentType = reply.contentType ?? (reply.text === undefined ? 'application/json' : 'text/html');
    const nullBody = status === 204 || status === 304;
    return Promise.resolve(
      new Response(nullBody ? null : text, {
        status,
        headers: { ...(nullBody ? {} : { 'Content-Type': contentType }), ...reply.headers },
      }),
    );
  });
  return { spy, calls };
}

export const nginx503 = {
  status: 503,
  text: '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>',
} as const;

export const server500 = { status: 500, json: { error: 'Internal server error' } } as const;
