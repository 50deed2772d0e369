import type { Ref } from 'react';
import { TextField } from '@/components/ui/TextField';
import { type NewPasswordErrors, PASSWORD_MAX, PASSWORD_MIN } from '../password-rules';

interface NewPasswordFieldsProps {
  idPrefix: string;
  password: string;
  repeat: string;
  onPassword: (value: string) => void;
  onRepeat: (value: string) => void;
  errors: NewPasswordErrors;
  passwordRef?: Ref<HTMLInputElement>;
  repeatRef?: Ref<HTMLInputElement>;
}

/** A new password and the same again, for password managers (`autocomplete="new-password"`). */
export function NewPasswordFields({ idPrefix, password, repeat, onPassword, onRepeat, errors, passwordRef, repeatRef }: NewPasswordFieldsProps) {
  return (
    <>
      <TextField
        ref={passwordRef}
        id={`${idPrefix}-new`}
        className="mb-3"
        label="New password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => onPassword(e.target.value)}
        error={errors.password}
        help={`${PASSWORD_MIN} to ${PASSWORD_MAX} characters. A few unrelated words are easy to remember and hard to guess.`}
      />
      <TextField
        ref={repeatRef}
        id={`${idPrefix}-repeat`}
        className="mb-3"
        label="New password again"
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(e) => onRepeat(e.target.value)}
        error={errors.repeat}
      />
    </>
  );
}
