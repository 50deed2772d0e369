import { isRecord } from '@/lib/guards';

/** A one-line message handed to the product list through navigation state. */
export interface Flash {
  kind: 'success' | 'info';
  text: string;
}

export function readFlash(state: unknown): Flash | null {
  if (!isRecord(state) || !isRecord(state.flash)) return null;
  const { kind, text } = state.flash;
  if ((kind === 'success' || kind === 'info') && typeof text === 'string') return { kind, text };
  return null;
}
