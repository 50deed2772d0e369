import { describe, expect, it } from 'vitest';
import { validateNewPassword } from './password-rules';
import { describeUserAgent } from './user-agent';

describe('describeUserAgent', () => {
  it('names the browser and the system roughly', () => {
    expect(describeUserAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe(
      'Chrome on Linux',
    );
    expect(
      describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0'),
    ).toBe('Edge on Windows');
    expect(describeUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0')).toBe('Firefox on macOS');
    expect(
      describeUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'),
    ).toBe('Safari on iOS');
    expect(
      describeUserAgent('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36'),
    ).toBe('Chrome on Android');
    expect(describeUserAgent('curl/8.5.0')).toBe('curl');
    expect(describeUserAgent('')).toBe('Unknown browser');
    expect(describeUserAgent(null)).toBe('Unknown browser');
    expect(describeUserAgent('SomethingElse/1.0')).toBe('Unknown browser');
  });
});

describe('validateNewPassword', () => {
  it('takes 12 to 128 characters, counted as the server counts them, and the same twice', () => {
    expect(validateNewPassword('', '')).toEqual({ password: 'Enter a new password.' });
    expect(validateNewPassword('short', 'short').password).toMatch(/at least 12 characters \(this has 5\)/);
    expect(validateNewPassword('a'.repeat(129), '').password).toMatch(/at most 128/);
    expect(validateNewPassword('a'.repeat(12), 'a'.repeat(12))).toEqual({});
    expect(validateNewPassword('a'.repeat(128), 'a'.repeat(128))).toEqual({});
    // Eleven emoji are 22 UTF-16 units but 11 characters.
    expect(validateNewPassword('😀'.repeat(11), '').password).toMatch(/this has 11/);
    expect(validateNewPassword('correct horse battery', 'correct horse battary')).toEqual({
      repeat: 'The two passwords are not the same.',
    });
  });
});
