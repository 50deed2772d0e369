import { type ReactNode, useId, useRef, useState } from 'react';

interface CopyFieldProps {
  /** The field's label, e.g. "Sign-in link". */
  label: string;
  value: string;
  /** The button's text, e.g. "Copy link". */
  copyLabel: string;
  /** Shown under the field, read out with it. */
  help?: ReactNode;
}

/**
 * A read-only value to copy (a one-time link, a new API token): selected whole on focus,
 * with a Copy button that uses the clipboard, or selects the text for the keyboard's copy
 * when the browser refuses. Says "Copied" in a status message.
 */
export function CopyField({ label, value, copyLabel, help }: CopyFieldProps) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [message, setMessage] = useState('');

  async function copy() {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      setMessage('Copied.');
    } catch {
      inputRef.current?.focus();
      inputRef.current?.select();
      setMessage('Could not copy: the text is selected, press Ctrl+C (⌘C on a Mac) to copy it.');
    }
  }

  return (
    <div>
      <label htmlFor={id} className="form-label fw-semibold">
        {label}
      </label>
      <div className="input-group">
        <input
          ref={inputRef}
          id={id}
          type="text"
          readOnly
          className="form-control font-monospace"
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          aria-describedby={help ? `${id}-help` : undefined}
          spellCheck={false}
        />
        <button type="button" className="btn btn-outline-primary" onClick={() => void copy()}>
          {copyLabel}
        </button>
      </div>
      {help ? (
        <div id={`${id}-help`} className="form-text">
          {help}
        </div>
      ) : null}
      <p className="small mb-0 mt-1 copy-status" role="status">
        {message}
      </p>
    </div>
  );
}
