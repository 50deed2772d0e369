/**
 * The audit log's entries (docs/contract.md, "Change history and the audit log"), shared by
 * the pages that list them (recent actions, the audit log, a product's history) and the
 * edit form's conflict screen: their shape, and each as a sentence a person reads.
 */
import { ApiError } from './api-client';
import { isRecord } from './guards';

export const AUDIT_ACTIONS = [
  'product.create',
  'product.update',
  'product.delete',
  'product.bulk_delete',
  'auth.sign_in',
  'auth.sign_in_failed',
  'auth.sign_out',
  'auth.password_change',
  'auth.session_revoke',
  'token.create',
  'token.revoke',
  'account.create',
  'account.update',
  'account.link_create',
  'account.link_use',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The actions as the audit log's filter names them. */
export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  'product.create': 'Product added',
  'product.update': 'Product edited',
  'product.delete': 'Product deleted',
  'product.bulk_delete': 'Products deleted together',
  'auth.sign_in': 'Signed in',
  'auth.sign_in_failed': 'Failed sign-in',
  'auth.sign_out': 'Signed out',
  'auth.password_change': 'Password changed',
  'auth.session_revoke': 'Session signed out',
  'token.create': 'API token created',
  'token.revoke': 'API token revoked',
  'account.create': 'Account added',
  'account.update': 'Account changed',
  'account.link_create': 'Sign-in link created',
  'account.link_use': 'Sign-in link used',
};

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(value);
}

export interface AuditActor {
  user_id: number | null;
  name: string | null;
  /** The API token's name, when a token acted. */
  token: string | null;
}

export interface FieldChange {
  old: unknown;
  new: unknown;
}

export interface AuditEntry {
  id: number;
  /** RFC 3339, UTC. */
  at: string;
  /** One of {@link AUDIT_ACTIONS}; an action this app does not know yet is shown as it is. */
  action: string;
  actor: AuditActor;
  product_id: number | null;
  /** The product's version after the change. */
  product_version: number | null;
  account_id: number | null;
  changes: Record<string, FieldChange>;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** An entry from its JSON, missing optional fields as null; null when it is not an entry. */
export function toAuditEntry(value: unknown): AuditEntry | null {
  if (!isRecord(value) || typeof value.id !== 'number' || typeof value.at !== 'string' || typeof value.action !== 'string') {
    return null;
  }
  const actor = isRecord(value.actor) ? value.actor : {};
  const changes: Record<string, FieldChange> = {};
  if (isRecord(value.changes)) {
    for (const [field, change] of Object.entries(value.changes)) {
      if (isRecord(change)) changes[field] = { old: change.old ?? null, new: change.new ?? null };
    }
  }
  return {
    id: value.id,
    at: value.at,
    action: value.action,
    actor: { user_id: numberOrNull(actor.user_id), name: stringOrNull(actor.name), token: stringOrNull(actor.token) },
    product_id: numberOrNull(value.product_id),
    product_version: numberOrNull(value.product_version),
    account_id: numberOrNull(value.account_id),
    changes,
    detail: isRecord(value.detail) ? value.detail : null,
    ip: stringOrNull(value.ip),
  };
}

/** A list of entries from a JSON body; an `invalid-response` ApiError when it is not one. */
export function parseAuditEntries(body: unknown): AuditEntry[] {
  const entries = Array.isArray(body) ? body.map(toAuditEntry) : null;
  if (entries?.every((e): e is AuditEntry => e !== null)) return entries;
  throw new ApiError({
    kind: 'invalid-response',
    status: 200,
    message: 'The server sent an unexpected list of audit entries.',
    body,
  });
}

/** Who acted: an account's name, an API token (and its owner), or someone not signed in. */
export function actorName(actor: AuditActor): string {
  const account = actor.name ?? (actor.user_id !== null ? `account #${actor.user_id}` : null);
  if (actor.token !== null) return account ? `API token “${actor.token}” of ${account}` : `API token “${actor.token}”`;
  if (actor.name !== null) return actor.name;
  if (actor.user_id !== null) return `Account #${actor.user_id}`;
  return 'Someone';
}

/** A product's title as the entry knows it (the new one, or the old one of a delete). */
export function entryProductTitle(entry: AuditEntry): string | null {
  const title = entry.changes.title;
  const value = title ? (title.new ?? title.old) : null;
  return typeof value === 'string' ? value : null;
}

/** Pieces of an entry's sentence: plain text, the actor, the product (linked to its history). */
export type SentencePart =
  | { kind: 'text'; text: string }
  | { kind: 'actor'; text: string }
  | { kind: 'product'; id: number; title: string | null };

const text = (t: string): SentencePart => ({ kind: 'text', text: t });

function accountName(entry: AuditEntry): string {
  const name = entry.changes.name;
  const value = name ? (name.new ?? name.old) : null;
  if (typeof value === 'string') return value;
  if (typeof entry.detail?.email === 'string') return entry.detail.email;
  return entry.account_id !== null ? `#${entry.account_id}` : '';
}

function tokenName(entry: AuditEntry): string {
  const token = entry.detail?.token;
  return typeof token === 'string' ? ` “${token}”` : '';
}

const PRODUCT_VERBS: Record<string, string> = {
  'product.create': 'added',
  'product.update': 'edited',
  'product.delete': 'deleted',
  'product.bulk_delete': 'deleted',
};

/** An entry as a sentence: "Ada Lovelace edited “Big mug”", "Failed sign-in for …". */
export function entrySentence(entry: AuditEntry): SentencePart[] {
  const actor: SentencePart = { kind: 'actor', text: actorName(entry.actor) };
  const product: SentencePart | null =
    entry.product_id !== null ? { kind: 'product', id: entry.product_id, title: entryProductTitle(entry) } : null;
  const verb = PRODUCT_VERBS[entry.action];
  if (verb && product) {
    return [actor, text(` ${verb} `), product, ...(entry.action === 'product.bulk_delete' ? [text(' (with others)')] : [])];
  }
  const account = accountName(entry);
  switch (entry.action) {
    case 'auth.sign_in':
      return [actor, text(' signed in')];
    case 'auth.sign_in_failed': {
      const email = entry.detail?.email;
      return [text(typeof email === 'string' ? `Failed sign-in as ${email}` : 'Failed sign-in')];
    }
    case 'auth.sign_out':
      return [actor, text(' signed out')];
    case 'auth.password_change':
      return [actor, text(' changed their password')];
    case 'auth.session_revoke':
      return [actor, text(' signed out a session')];
    case 'token.create':
      return [actor, text(` created the API token${tokenName(entry)}`)];
    case 'token.revoke':
      return [actor, text(` revoked the API token${tokenName(entry)}`)];
    case 'account.create':
      return [actor, text(` added the account ${account}`.trimEnd())];
    case 'account.update':
      return [actor, text(` changed the account ${account}`.trimEnd())];
    case 'account.link_create':
      return [actor, text(` made a one-time sign-in link for ${account || 'an account'}`)];
    case 'account.link_use':
      return [actor, text(' set a password with a one-time link')];
    default:
      return [actor, text(`: ${entry.action}`), ...(product ? [text(' '), product] : [])];
  }
}

/** The sentence as plain text (products as their title, or "product #N"). */
export function sentenceText(parts: SentencePart[]): string {
  return parts.map((p) => (p.kind === 'product' ? productLabel(p.id, p.title) : p.text)).join('');
}

/** "“Big mug”" or "product #7". */
export function productLabel(id: number, title: string | null): string {
  return title !== null ? `“${title}”` : `product #${id}`;
}

/** A changed value as text: strings quoted, yes/no, "none" for null. */
export function formatChangeValue(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'string') return `“${value}”`;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}
