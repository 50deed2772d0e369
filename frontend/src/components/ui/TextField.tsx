import type { ComponentPropsWithRef, ReactNode } from 'react';

interface TextFieldProps
  extends Omit<ComponentPropsWithRef<'input'>, 'id' | 'className' | 'aria-invalid' | 'aria-describedby'> {
  id: string;
  label: string;
  /** Shown next to the input, which is then marked invalid and read out with it. */
  error: string | undefined;
  /** Shown under the input and read out with it (`${id}-help`). */
  help?: ReactNode;
  helpClassName?: string;
  className?: string;
}

/** A labelled text input with Bootstrap's validation look. */
export function TextField({ id, label, error, help, helpClassName = 'form-text', className, ...input }: TextFieldProps) {
  const helpId = help == null ? null : `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, helpId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={className}>
      <label htmlFor={id} className="form-label fw-semibold">
        {label}
      </label>
      <input
        id={id}
        type="text"
        autoComplete="off"
        className={`form-control${error ? ' is-invalid' : ''}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        {...input}
      />
      {error ? (
        <div id={errorId} className="invalid-feedback">
          {error}
        </div>
      ) : null}
      {helpId ? (
        <div id={helpId} className={helpClassName}>
          {help}
        </div>
      ) : null}
    </div>
  );
}
