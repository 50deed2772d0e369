/**
 * The one HTTP client of the app: a small wrapper over `fetch` for the shop's JSON APIs.
 *
 * - Only same-origin relative URLs (`/api/...`, `/flask/...`); cookies go along
 *   (`credentials: 'same-origin'`) so main-svc's `shopper_id` cookie identifies the shopper.
 * - A 2xx answer is parsed as JSON (an empty body, e.g. a 204, gives `undefined`).
 * - Anything else becomes an {@link ApiError} carrying the status, the service's `error`
 *   message, and Django REST Framework style field errors (`{"title": ["…"]}`), whatever the
 *   body is: JSON, an nginx HTML error page, or nothing at all.
 * - A network failure becomes an `ApiError` with status 0; an aborted request rethrows the
 *   `AbortError` so callers can ignore it.
 */

import { isRecord } from './guards';

export type FieldErrors = Record<string, string[]>;

export type ApiErrorKind =
  /** The request never got an answer (offline, DNS, connection refused, CORS...). */
  | 'network'
  /** The server answered with a non-2xx status. */
  | 'http'
  /** A 2xx answer whose body was not the JSON the app expects. */
  | 'invalid-response';

export interface ApiErrorInit {
  kind: ApiErrorKind;
  status: number;
  message: string;
  /** The service's own `error` message, when it sent one. */
  serverMessage?: string | undefined;
  fieldErrors?: FieldErrors;
  nonFieldErrors?: string[];
  body?: unknown;
  /** The answer's headers (e.g. the current `ETag` of a 412), when there was an answer. */
  headers?: Headers;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly kind: ApiErrorKind;
  /** The HTTP status; 0 when there was no answer. */
  readonly status: number;
  readonly serverMessage: string | undefined;
  /** Field errors by field name (`non_field_errors` is in {@link nonFieldErrors}). */
  readonly fieldErrors: FieldErrors;
  readonly nonFieldErrors: string[];
  readonly body: unknown;
  /** The answer's headers; empty when there was no answer. */
  readonly headers: Headers;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.status = init.status;
    this.serverMessage = init.serverMessage;
    this.fieldErrors = init.fieldErrors ?? {};
    this.nonFieldErrors = init.nonFieldErrors ?? [];
    this.body = init.body;
    this.headers = init.headers ?? new Headers();
  }

  get isNetworkError(): boolean {
    return this.kind === 'network';
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  /** True when retrying the same request later may well succeed. */
  get isRetryable(): boolean {
    return this.kind !== 'http' || this.status >= 500 || this.status === 408 || this.status === 429;
  }

  get hasFieldErrors(): boolean {
    return Object.keys(this.fieldErrors).length > 0;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

export function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'AbortError'
  );
}

/** Turns anything thrown into an `ApiError`, so UI code deals with one type. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError({
    kind: 'invalid-response',
    status: 0,
    message: error instanceof Error ? error.message : 'Unexpected error',
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'The request was not accepted',
  401: 'You need to sign in',
  403: 'You are not allowed to do this',
  404: 'Not found',
  408: 'The request timed out',
  410: 'This is no longer available',
  412: 'It changed since you read it',
  413: 'The request is too large',
  415: 'Unsupported content type',
  429: 'Too many requests',
  500: 'Something went wrong on the server',
  502: 'The service is unavailable',
  503: 'The service is unavailable',
  504: 'The service did not answer in time',
};

/** A message a person can act on, for any error the client produces. */
export function describeError(error: unknown): string {
  const e = toApiError(error);
  if (e.kind === 'network') {
    return 'Could not reach the server. Check your connection and try again.';
  }
  if (e.kind === 'invalid-response') {
    return 'The server sent an unexpected answer. Please try again.';
  }
  if (e.status === 502 || e.status === 503 || e.status === 504) {
    return 'The service is temporarily unavailable. Please try again in a moment.';
  }
  if (e.status >= 500) {
    return 'Something went wrong on the server. Please try again.';
  }
  return e.message;
}

function asMessages(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    const messages = value.filter((m): m is string => typeof m === 'string');
    return messages.length > 0 ? messages : null;
  }
  return null;
}

function errorFromResponse(status: number, statusText: string, body: unknown, headers: Headers): ApiError {
  let serverMessage: string | undefined;
  const fieldErrors: FieldErrors = {};
  let nonFieldErrors: string[] = [];
  if (isRecord(body)) {
    for (const [key, value] of Object.entries(body)) {
      if (key === 'error' || key === 'detail' || key === 'message') {
        if (typeof value === 'string' && serverMessage === undefined) serverMessage = value;
        continue;
      }
      const messages = asMessages(value);
      if (!messages) continue;
      if (key === 'non_field_errors') nonFieldErrors = messages;
      else fieldErrors[key] = messages;
    }
  }
  const fallback = STATUS_TEXT[status] ?? (statusText || 'Request failed');
  return new ApiError({
    kind: 'http',
    status,
    message: serverMessage ?? `${fallback} (HTTP ${status}).`,
    serverMessage,
    fieldErrors,
    nonFieldErrors,
    body,
    headers,
  });
}

async function readBody(response: Response): Promise<{ text: string; json: unknown; isJson: boolean }> {
  let text = '';
  try {
    text = await response.text();
  } catch (error) {
    if (isAbortError(error)) throw error;
    text = '';
  }
  if (text.trim() === '') return { text, json: undefined, isJson: true };
  try {
    return { text, json: JSON.parse(text) as unknown, isJson: true };
  } catch {
    return { text, json: undefined, isJson: false };
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON when given. */
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Extra request headers (e.g. `If-Match`). */
  headers?: Record<string, string> | undefined;
}

/**
 * Sends a request to a same-origin path and resolves with the parsed JSON body
 * (`undefined` for an empty body). Rejects with an {@link ApiError}, or with the
 * `AbortError` when `signal` aborts.
 */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await apiRequestWithHeaders<T>(path, options)).body;
}

/** A decoded answer with its response headers (e.g. `X-Total-Count` of a numbered page). */
export interface ApiResponse<T> {
  body: T;
  headers: Headers;
}

/** {@link apiRequest}, also resolving with the answer's headers. */
export async function apiRequestWithHeaders<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  if (!path.startsWith('/') || path.startsWith('//')) {
    throw new Error(`apiRequest takes a same-origin path, got ${path}`);
  }
  const headers: Record<string, string> = { ...options.headers, Accept: 'application/json' };
  const init: RequestInit = {
    method: options.method ?? 'GET',
    headers,
    credentials: 'same-origin',
  };
  if (options.signal) init.signal = options.signal;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (isAbortError(error) || options.signal?.aborted) throw error;
    throw new ApiError({
      kind: 'network',
      status: 0,
      message: 'Could not reach the server.',
    });
  }

  const { json, isJson } = await readBody(response);
  if (!response.ok) {
    throw errorFromResponse(response.status, response.statusText, isJson ? json : undefined, response.headers);
  }
  if (!isJson) {
    throw new ApiError({
      kind: 'invalid-response',
      status: response.status,
      message: 'The server sent an answer that is not JSON.',
    });
  }
  return { body: json as T, headers: response.headers };
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => apiRequest<T>(path, { signal }),
  /** A GET resolving with the body and the response headers. */
  getWithHeaders: <T>(path: string, signal?: AbortSignal) => apiRequestWithHeaders<T>(path, { signal }),
  post: <T>(path: string, body?: unknown, signal?: AbortSignal) =>
    apiRequest<T>(path, { method: 'POST', body, signal }),
  put: <T>(path: string, body: unknown, signal?: AbortSignal) =>
    apiRequest<T>(path, { method: 'PUT', body, signal }),
  patch: <T>(path: string, body: unknown, signal?: AbortSignal) =>
    apiRequest<T>(path, { method: 'PATCH', body, signal }),
  /** Any request, with extra headers (e.g. `If-Match`), resolving with the answer's headers too. */
  request: <T>(path: string, options: RequestOptions) => apiRequestWithHeaders<T>(path, options),
  delete: <T = void>(path: string, signal?: AbortSignal) =>
    apiRequest<T>(path, { method: 'DELETE', signal }),
};

/** Checks a decoded body's shape; throws an `invalid-response` ApiError when it is wrong. */
export function expectShape<T>(value: unknown, guard: (v: unknown) => v is T, what: string): T {
  if (guard(value)) return value;
  throw new ApiError({
    kind: 'invalid-response',
    status: 200,
    message: `The server sent an unexpected ${what}.`,
    body: value,
  });
}
