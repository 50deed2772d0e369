import { describe, expect, it } from 'vitest';
import { isValidImage, MESSAGES, normalizeProduct, validateImage, validateProduct, validateTitle } from './validation';

describe('product validation (same rules as admin-svc)', () => {
  it('requires a title of 1 to 200 characters after trimming', () => {
    expect(validateTitle('')).toBe(MESSAGES.blank);
    expect(validateTitle('   \t\n')).toBe(MESSAGES.blank);
    expect(validateTitle('a'.repeat(200))).toBeUndefined();
    expect(validateTitle(`  ${'a'.repeat(200)}  `)).toBeUndefined();
    expect(validateTitle('a'.repeat(201))).toBe('Ensure this field has no more than 200 characters.');
    // Characters, not UTF-16 units: 200 emoji are 400 units but 200 characters.
    expect(validateTitle('😀'.repeat(200))).toBeUndefined();
    expect(validateTitle('é'.repeat(200))).toBeUndefined();
  });

  it('accepts http(s) URLs and same-site paths', () => {
    for (const image of ['https://example.com/mug.png', 'http://cdn.example.com:8080/a?b=c', '/img/mug.png', 'HTTPS://EXAMPLE.COM/A.PNG']) {
      expect(isValidImage(image), image).toBe(true);
    }
  });

  it('refuses dangerous or odd images', () => {
    for (const image of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'data:image/png;base64,AAAA',
      'ftp://example.com/a.png',
      '//evil.com/x.png',
      '/\\evil.com/x.png',
      'mug.png',
      'https://',
      'https://exa mple.com/a.png',
      '/a\nb',
      '/a\u0007b',
      'file:///etc/passwd',
    ]) {
      expect(isValidImage(image), image).toBe(false);
    }
  });

  it('checks blank, then length, then the address rule', () => {
    expect(validateImage('  ')).toBe(MESSAGES.blank);
    expect(validateImage(`/${'a'.repeat(200)}`)).toBe('Ensure this field has no more than 200 characters.');
    expect(validateImage(`/${'a'.repeat(199)}`)).toBeUndefined();
    expect(validateImage(' javascript:alert(1) ')).toBe(MESSAGES.image);
    expect(validateImage('  https://example.com/a.png  ')).toBeUndefined();
  });

  it('refuses hostile text as the server does', () => {
    expect(validateTitle('a\u0000b')).toBe(MESSAGES.nul);
    for (const bad of ['a\u0007b', 'a\tb', 'a\nb', 'a\u007Fb', 'a\u009Bb', '\u202Egpj.exe', 'a\u2066b']) {
      expect(validateTitle(bad), JSON.stringify(bad)).toBe(MESSAGES.control);
    }
    for (const blank of ['\u200B', '\u200B\u200C\u200D', '\uFEFF', ' \u2060 ']) {
      expect(validateTitle(blank), JSON.stringify(blank)).toBe(MESSAGES.blank);
    }
    expect(validateTitle('👩\u200D💻 Mug')).toBeUndefined();
    expect(validateImage('/a\u0000')).toBe(MESSAGES.nul);
    for (const image of ['https://user:pass@example.com/x.png', 'https://user@example.com/x.png', 'http://:pw@example.com/x.png']) {
      expect(validateImage(image), image).toBe(MESSAGES.userinfo);
    }
  });

  it('validates and trims a whole product', () => {
    expect(validateProduct({ title: '', image: '//evil.com/x.png' })).toEqual({ title: MESSAGES.blank, image: MESSAGES.image });
    expect(validateProduct({ title: 'Mug', image: '/m.png' })).toEqual({});
    expect(normalizeProduct({ title: '  Mug ', image: ' /m.png ' })).toEqual({ title: 'Mug', image: '/m.png' });
  });
});
