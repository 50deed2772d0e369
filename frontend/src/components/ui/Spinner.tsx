/** A small inline spinner for buttons; hidden from assistive technology (the text says it). */
export function ButtonSpinner() {
  return <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />;
}
