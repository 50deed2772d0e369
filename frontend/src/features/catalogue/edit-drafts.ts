import { readDraft, removeDraft, saveDraft } from '@/lib/drafts';
import { isRecord } from '@/lib/guards';
import { isProduct } from '@/lib/product';
import type { VersionedProduct } from './api/products';

/**
 * The version an edit started from, kept beside the form's draft when the session ends
 * while saving: back from signing in, the form's input is checked against that version
 * (If-Match), not the one just loaded, so a change made meanwhile is not overwritten unseen.
 */
const suffix = '#base';

function isVersioned(value: unknown): value is VersionedProduct {
  return isRecord(value) && isProduct(value.product) && (value.etag === null || typeof value.etag === 'string');
}

export function saveBaseDraft(draftKey: string, base: VersionedProduct): void {
  saveDraft(draftKey + suffix, base);
}

/** The kept version, if any (does not remove it: see {@link removeBaseDraft}). */
export function readBaseDraft(draftKey: string): VersionedProduct | null {
  return readDraft(draftKey + suffix, isVersioned);
}

export function removeBaseDraft(draftKey: string): void {
  removeDraft(draftKey + suffix);
}
