/**
 * Form input kept across a sign-in: when an admin's session ends while saving, what they
 * typed is put here (the tab's sessionStorage, by page path) and put back in the form when
 * they come back signed in. Signing out forgets every draft.
 */

const PREFIX = 'shop:draft:';

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    // Storage disabled (some privacy settings): drafts are simply not kept.
    return null;
  }
}

/** Keeps `value` for `key`; false when it could not be kept (no storage, or full). */
export function saveDraft(key: string, value: unknown): boolean {
  const s = storage();
  if (!s) return false;
  try {
    s.setItem(PREFIX + key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** The draft kept for `key`, if any and if `guard` accepts it. Does not remove it. */
export function readDraft<T>(key: string, guard: (value: unknown) => value is T): T | null {
  const raw = storage()?.getItem(PREFIX + key);
  if (raw == null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return guard(value) ? value : null;
  } catch {
    return null;
  }
}

export function removeDraft(key: string): void {
  storage()?.removeItem(PREFIX + key);
}

/** Forgets every draft (on sign-out: the next person at this tab must not see them). */
export function clearDrafts(): void {
  const s = storage();
  if (!s) return;
  for (const key of Object.keys(s)) {
    if (key.startsWith(PREFIX)) s.removeItem(key);
  }
}
