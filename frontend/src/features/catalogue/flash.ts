/** A one-line message handed to the product list through navigation state. */
export interface Flash {
  kind: 'success' | 'info';
  text: string;
}

export function readFlash(state: unknown): Flash | null {
  if (typeof state !== 'object' || state === null || !('flash' in state)) return null;
  const flash = state.flash;
  if (typeof flash !== 'object' || flash === null) return null;
  const { kind, text } = flash as Record<string, unknown>;
  if ((kind === 'success' || kind === 'info') && typeof text === 'string') return { kind, text };
  return null;
}
