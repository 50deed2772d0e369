/**
 * Reading a `Link` header (RFC 8288) as the APIs send it for keyset pages:
 * `</api/audit?before=40&limit=50>; rel="next"`.
 */

// Any page of this site, for resolving a link against; never contacted.
const SITE = 'https://site.invalid';

/**
 * The same-origin path (with its query) of the link whose `rel` includes `rel`, or null when
 * there is none, or when it points to another site (never followed).
 */
export function linkPath(header: string | null | undefined, rel = 'next'): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = (match[2] ?? '')
      .split(';')
      .map((param) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1] ?? '')
      .flatMap((value) => value.toLowerCase().split(/\s+/));
    if (!rels.includes(rel)) continue;
    let url: URL;
    try {
      url = new URL(match[1] ?? '', SITE);
    } catch {
      return null;
    }
    const here = typeof window === 'undefined' ? SITE : window.location.origin;
    if (url.origin !== SITE && url.origin !== here) return null;
    return `${url.pathname}${url.search}`;
  }
  return null;
}
