import { describe, expect, it } from 'vitest';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { api, ApiError, apiRequest, describeError } from './api-client';

async function caught(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the request to fail');
}

describe('apiRequest', () => {
  it('parses JSON and sends JSON bodies with the same-origin cookie policy', async () => {
    const { calls } = mockFetch({ 'POST /api/products': { status: 201, json: { id: 1 } } });
    await expect(api.post('/api/products', { title: 'Mug', image: '/m.png' })).resolves.toEqual({ id: 1 });
    expect(calls).toEqual([
      { method: 'POST', url: '/api/products', body: { title: 'Mug', image: '/m.png' }, credentials: 'same-origin' },
    ]);
  });

  it('resolves with the response headers too when asked (getWithHeaders)', async () => {
    mockFetch({ 'GET /api/products?page=2': { json: [], headers: { 'X-Total-Count': '1234' } } });
    const { body, headers } = await api.getWithHeaders('/api/products?page=2');
    expect(body).toEqual([]);
    expect(headers.get('X-Total-Count')).toBe('1234');
    expect(headers.get('Content-Type')).toBe('application/json');
  });

  it('sends extra request headers (If-Match) and exposes an error answer’s headers (a 412’s ETag)', async () => {
    const { calls } = mockFetch({
      'PUT /api/products/5': { status: 412, json: { error: 'The product changed since you read it' }, headers: { ETag: '"6"' } },
    });
    const e = await caught(api.request('/api/products/5', { method: 'PUT', body: {}, headers: { 'If-Match': '"4"' } }));
    expect(calls[0]!.headers).toEqual({ 'if-match': '"4"' });
    expect(e.status).toBe(412);
    expect(e.headers.get('ETag')).toBe('"6"');
    expect(e.message).toBe('The product changed since you read it');
  });

  it('sends PATCH with a JSON body', async () => {
    const { calls } = mockFetch({ 'PATCH /api/admins/4': { json: { id: 4 } } });
    await expect(api.patch('/api/admins/4', { role: 'viewer' })).resolves.toEqual({ id: 4 });
    expect(calls[0]).toMatchObject({ method: 'PATCH', body: { role: 'viewer' } });
  });

  it('resolves an empty 204 with undefined', async () => {
    mockFetch({ 'DELETE /api/products/1': { status: 204 } });
    await expect(api.delete('/api/products/1')).resolves.toBeUndefined();
  });

  it('turns DRF field errors into a typed ApiError', async () => {
    mockFetch({
      'POST /api/products': {
        status: 400,
        json: { title: ['This field may not be blank.'], non_field_errors: ['Nope.'] },
      },
    });
    const e = await caught(api.post('/api/products', {}));
    expect(e.status).toBe(400);
    expect(e.kind).toBe('http');
    expect(e.fieldErrors).toEqual({ title: ['This field may not be blank.'] });
    expect(e.nonFieldErrors).toEqual(['Nope.']);
    expect(e.serverMessage).toBeUndefined();
  });

  it('carries the service error message', async () => {
    mockFetch({ 'POST /flask/api/products/1/like': { status: 400, json: { error: 'You already liked this product.' } } });
    const e = await caught(api.post('/flask/api/products/1/like'));
    expect(e.message).toBe('You already liked this product.');
    expect(e.serverMessage).toBe('You already liked this product.');
  });

  it('copes with an HTML error page from nginx', async () => {
    mockFetch({ 'GET /api/products': nginx503 });
    const e = await caught(api.get('/api/products'));
    expect(e.status).toBe(503);
    expect(e.serverMessage).toBeUndefined();
    expect(e.isRetryable).toBe(true);
    expect(describeError(e)).toMatch(/temporarily unavailable/i);
  });

  it('describes a 500 without leaking details', async () => {
    mockFetch({ 'GET /api/products': server500 });
    const e = await caught(api.get('/api/products'));
    expect(e.status).toBe(500);
    expect(describeError(e)).toMatch(/went wrong on the server/i);
  });

  it('reports a network failure as status 0', async () => {
    mockFetch({ 'GET /api/products': 'network-error' });
    const e = await caught(api.get('/api/products'));
    expect(e.kind).toBe('network');
    expect(e.status).toBe(0);
    expect(describeError(e)).toMatch(/could not reach the server/i);
  });

  it('rejects a 2xx answer that is not JSON (e.g. the SPA page from a misrouted proxy)', async () => {
    mockFetch({ 'GET /api/products': { status: 200, text: '<!doctype html><html></html>' } });
    const e = await caught(api.get('/api/products'));
    expect(e.kind).toBe('invalid-response');
  });

  it('refuses anything but a same-origin path', async () => {
    await expect(apiRequest('https://evil.example/api')).rejects.toThrow(/same-origin path/);
    await expect(apiRequest('//evil.example/api')).rejects.toThrow(/same-origin path/);
  });
});
