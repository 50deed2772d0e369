import { describe, expect, it } from 'vitest';
import { auditEntry } from '@/testing/audit-entries';
import { ApiError } from './api-client';
import { actorName, entrySentence, formatChangeValue, parseAuditEntries, sentenceText, toAuditEntry } from './audit-log';

const sentence = (overrides: Parameters<typeof auditEntry>[0]) => sentenceText(entrySentence(toAuditEntry(auditEntry(overrides))!));

describe('audit entries as sentences', () => {
  it('names who did what to which product', () => {
    expect(sentence({})).toBe('Ada Lovelace edited “Big mug”');
    expect(sentence({ action: 'product.create', changes: { title: { old: null, new: 'Mug' }, image: { old: null, new: '/m.png' } } })).toBe(
      'Ada Lovelace added “Mug”',
    );
    expect(sentence({ action: 'product.delete', changes: { title: { old: 'Mug', new: null } } })).toBe('Ada Lovelace deleted “Mug”');
    expect(sentence({ action: 'product.bulk_delete', changes: { title: { old: 'Mug', new: null } } })).toBe(
      'Ada Lovelace deleted “Mug” (with others)',
    );
    // A change that does not touch the title names the product by id.
    expect(sentence({ changes: { image: { old: '/a.png', new: '/b.png' } } })).toBe('Ada Lovelace edited product #7');
  });

  it('names tokens, their owners, and nobody', () => {
    expect(actorName({ user_id: 3, name: 'Ada', token: 'ci-smoke' })).toBe('API token “ci-smoke” of Ada');
    expect(actorName({ user_id: null, name: null, token: 'ci-smoke' })).toBe('API token “ci-smoke”');
    expect(actorName({ user_id: 9, name: null, token: null })).toBe('Account #9');
    expect(actorName({ user_id: null, name: null, token: null })).toBe('Someone');
  });

  it('says what sign-ins, tokens and account changes did', () => {
    const none = { product_id: null, product_version: null, changes: null };
    expect(sentence({ ...none, action: 'auth.sign_in' })).toBe('Ada Lovelace signed in');
    expect(
      sentence({ ...none, action: 'auth.sign_in_failed', actor: { user_id: null, name: null, token: null }, detail: { email: 'x@example.com' } }),
    ).toBe('Failed sign-in as x@example.com');
    expect(sentence({ ...none, action: 'token.create', detail: { token: 'ci' } })).toBe('Ada Lovelace created the API token “ci”');
    expect(sentence({ ...none, action: 'token.revoke', detail: { token: 'ci' } })).toBe('Ada Lovelace revoked the API token “ci”');
    expect(sentence({ ...none, action: 'account.create', account_id: 5, changes: { name: { old: null, new: 'Grace' } } })).toBe(
      'Ada Lovelace added the account Grace',
    );
    expect(sentence({ ...none, action: 'account.update', account_id: 5, changes: { role: { old: 'admin', new: 'viewer' } } })).toBe(
      'Ada Lovelace changed the account #5',
    );
    expect(sentence({ ...none, action: 'account.link_create', account_id: 5 })).toBe('Ada Lovelace made a one-time sign-in link for #5');
    expect(sentence({ ...none, action: 'auth.password_change' })).toBe('Ada Lovelace changed their password');
    expect(sentence({ ...none, action: 'something.new' })).toBe('Ada Lovelace: something.new');
  });
});

describe('parseAuditEntries', () => {
  it('fills missing optional fields with null and refuses what is not an entry', () => {
    expect(parseAuditEntries([{ id: 1, at: '2026-12-07T13:01:25Z', action: 'auth.sign_in' }])[0]).toMatchObject({
      actor: { user_id: null, name: null, token: null },
      product_id: null,
      changes: {},
    });
    expect(() => parseAuditEntries([{ id: 1 }])).toThrow(ApiError);
    expect(() => parseAuditEntries({})).toThrow(ApiError);
  });
});

describe('formatChangeValue', () => {
  it('quotes text and reads booleans and null', () => {
    expect(formatChangeValue('Mug')).toBe('“Mug”');
    expect(formatChangeValue(null)).toBe('none');
    expect(formatChangeValue(true)).toBe('yes');
    expect(formatChangeValue(4)).toBe('4');
  });
});
