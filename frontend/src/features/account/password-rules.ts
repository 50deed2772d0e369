/** admin-svc's password rules (docs/contract.md: 12 to 128 characters). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

export type NewPasswordField = 'password' | 'repeat';
export type NewPasswordErrors = Partial<Record<NewPasswordField, string>>;

/** Characters as the server counts them (code points, not UTF-16 units). */
export function passwordLength(password: string): number {
  return [...password].length;
}

/** A new password and its repetition, checked before asking the server. */
export function validateNewPassword(password: string, repeat: string): NewPasswordErrors {
  const errors: NewPasswordErrors = {};
  const length = passwordLength(password);
  if (length === 0) errors.password = 'Enter a new password.';
  else if (length < PASSWORD_MIN) errors.password = `Use at least ${PASSWORD_MIN} characters (this has ${length}).`;
  else if (length > PASSWORD_MAX) errors.password = `Use at most ${PASSWORD_MAX} characters (this has ${length}).`;
  if (!errors.password && repeat !== password) errors.repeat = 'The two passwords are not the same.';
  return errors;
}
