import { describe, expect, it } from 'vitest';
import { ApiError, type ApiErrorInit } from '@/lib/api-client';
import { mapSaveError } from './save-errors';

const http = (init: Partial<ApiErrorInit>) =>
  new ApiError({ kind: 'http', status: 400, message: 'The request was not accepted (HTTP 400).', ...init });

describe('mapSaveError', () => {
  it('puts the form’s field errors next to their fields and focuses the first one', () => {
    expect(mapSaveError(http({ fieldErrors: { image: ['Bad host.'], title: ['Taken.', 'Too short.'] } }))).toEqual({
      fields: { title: 'Taken. Too short.', image: 'Bad host.' },
      top: [],
      focus: 'title',
    });
    expect(mapSaveError(http({ fieldErrors: { image: ['Bad host.'] } })).focus).toBe('image');
  });

  it('puts the service’s message, non-field errors and unknown fields at the top, in that order', () => {
    const mapped = mapSaveError(
      http({
        serverMessage: 'Not saved.',
        nonFieldErrors: ['Whole product.'],
        fieldErrors: { title: ['Taken.'], price: ['Not a number.'] },
      }),
    );
    expect(mapped).toEqual({
      fields: { title: 'Taken.' },
      top: ['Not saved.', 'Whole product.', 'price: Not a number.'],
      focus: 'top',
    });
  });

  it('shows an `error` answer (e.g. 413) at the top', () => {
    const message = 'Request body is larger than 64 KiB';
    expect(mapSaveError(http({ status: 413, message, serverMessage: message }))).toEqual({ fields: {}, top: [message], focus: 'top' });
  });

  it('replaces a server fault’s details with a message the person can act on', () => {
    const mapped = mapSaveError(
      http({ status: 500, message: 'Internal server error', serverMessage: 'Internal server error', fieldErrors: { title: ['x'] } }),
    );
    expect(mapped.top).toEqual(['Something went wrong on the server. Please try again.']);
    expect(mapped.focus).toBe('top');
    expect(mapSaveError(http({ status: 503 })).top).toEqual(['The service is temporarily unavailable. Please try again in a moment.']);
  });

  it('explains network failures and anything that is not an ApiError', () => {
    expect(mapSaveError(new ApiError({ kind: 'network', status: 0, message: 'Could not reach the server.' })).top).toEqual([
      'Could not reach the server. Check your connection and try again.',
    ]);
    expect(mapSaveError(new TypeError('boom')).top).toEqual(['The server sent an unexpected answer. Please try again.']);
  });

  it('says something even when a refusal carries no message', () => {
    expect(mapSaveError(http({}))).toEqual({ fields: {}, top: ['The request was not accepted (HTTP 400).'], focus: 'top' });
  });
});
