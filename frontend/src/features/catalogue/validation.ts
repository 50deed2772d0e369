import type { ProductInput } from './api/products';

// The same rules and messages as admin-svc (crates/admin-svc/src/validation.rs), so the
// form never accepts what the server refuses or refuses what it accepts.

export const TITLE_MAX = 200;
export const IMAGE_MAX = 200;

export const MESSAGES = {
  blank: 'This field may not be blank.',
  tooLong: (max: number) => `Ensure this field has no more than ${max} characters.`,
  image: 'Enter a valid URL (http:// or https://) or a path starting with /.',
  nul: 'Null characters are not allowed.',
  control: 'Control characters and bidirectional overrides are not allowed.',
  userinfo: 'URLs with a user name or password are not allowed.',
} as const;

// Rust's str::trim and char::is_whitespace use Unicode's White_Space property, which is not
// quite what String.prototype.trim uses (it adds U+FEFF and lacks U+0085).
const EDGE_WHITESPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
const WHITESPACE_OR_CONTROL = /[\p{White_Space}\p{Cc}]/u;
// Control characters and the bidirectional embeddings, overrides and isolates.
const FORBIDDEN = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
// Nothing visible: spaces and zero-width characters only.
const INVISIBLE_ONLY = /^[\p{White_Space}\u200B-\u200D\u2060\uFEFF]*$/u;

export function trimLikeServer(value: string): string {
  return value.replace(EDGE_WHITESPACE, '');
}

/** Length in Unicode scalar values (Rust's `chars().count()`), not UTF-16 units. */
export function charCount(value: string): number {
  return Array.from(value).length;
}

/** An `http(s)://` URL with a host, or a same-site path `/…` (not `//…` or `/\…`). */
export function isValidImage(image: string): boolean {
  if (WHITESPACE_OR_CONTROL.test(image)) return false;
  if (image.startsWith('/')) return !image.startsWith('//') && !image.startsWith('/\\');
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

export type ProductField = keyof ProductInput;
export type ProductErrors = Partial<Record<ProductField, string>>;

/** The form's fields, in the order they are shown (and focused when invalid). */
export const PRODUCT_FIELDS: readonly ProductField[] = ['title', 'image'];

export function isProductField(key: string): key is ProductField {
  return (PRODUCT_FIELDS as readonly string[]).includes(key);
}

/** What the server checks of every text field, in its order. */
function validateText(value: string, max: number): string | undefined {
  if (value.includes('\0')) return MESSAGES.nul;
  if (FORBIDDEN.test(value)) return MESSAGES.control;
  if (INVISIBLE_ONLY.test(value)) return MESSAGES.blank;
  if (charCount(value) > max) return MESSAGES.tooLong(max);
  return undefined;
}

/** A URL that carries a user name or password. */
function hasUserinfo(image: string): boolean {
  try {
    const url = new URL(image);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

export function validateTitle(raw: string): string | undefined {
  return validateText(trimLikeServer(raw), TITLE_MAX);
}

export function validateImage(raw: string): string | undefined {
  const image = trimLikeServer(raw);
  const text = validateText(image, IMAGE_MAX);
  if (text) return text;
  if (!isValidImage(image)) return MESSAGES.image;
  if (hasUserinfo(image)) return MESSAGES.userinfo;
  return undefined;
}

export function validateProduct(values: ProductInput): ProductErrors {
  const errors: ProductErrors = {};
  const title = validateTitle(values.title);
  const image = validateImage(values.image);
  if (title) errors.title = title;
  if (image) errors.image = image;
  return errors;
}

/** The values as the server will store them. */
export function normalizeProduct(values: ProductInput): ProductInput {
  return { title: trimLikeServer(values.title), image: trimLikeServer(values.image) };
}
