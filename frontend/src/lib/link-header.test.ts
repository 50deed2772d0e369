import { describe, expect, it } from 'vitest';
import { linkPath } from './link-header';

describe('linkPath', () => {
  it('finds rel="next" among other links', () => {
    const header =
      '</api/audit?before=1&limit=10>; rel="first", </api/audit?before=40&limit=10>; rel="next", </x>; rel="last"';
    expect(linkPath(header)).toBe('/api/audit?before=40&limit=10');
    expect(linkPath(header, 'last')).toBe('/x');
  });

  it('is null without a header or without that rel', () => {
    expect(linkPath(null)).toBeNull();
    expect(linkPath('')).toBeNull();
    expect(linkPath('</a>; rel="prev"')).toBeNull();
  });

  it('accepts an absolute link to this site as its path, never another site', () => {
    expect(linkPath(`<${window.location.origin}/api/audit?before=3>; rel=next`)).toBe('/api/audit?before=3');
    expect(linkPath('<https://evil.example/api/audit?before=3>; rel="next"')).toBeNull();
    expect(linkPath('<//evil.example/x>; rel="next"')).toBeNull();
  });
});
