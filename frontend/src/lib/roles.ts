/**
 * Account roles (docs/contract.md, "Roles and who may do what"): an `admin` may do
 * everything; a `viewer` reads the catalogue, product history and the audit log, and
 * manages only their own password, sessions and tokens.
 */

export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return value === 'admin' || value === 'viewer';
}

/**
 * A role as admin-svc sends it. No role at all is an admin-svc from before roles, when
 * every account could do everything; a role this app does not know gets the least rights.
 */
export function parseRole(value: unknown): Role {
  if (value === undefined || value === null) return 'admin';
  return isRole(value) ? value : 'viewer';
}

export const ROLE_LABELS: Record<Role, string> = { admin: 'Admin', viewer: 'Viewer' };

/** Who is signed in on the admin pages. */
export interface CurrentAdmin {
  id: number;
  name: string;
  email: string;
  role: Role;
}

/** May change the catalogue (add, edit, delete, bulk delete). */
export function canChangeCatalogue(admin: CurrentAdmin | null): boolean {
  return admin?.role === 'admin';
}

/** May manage accounts (list, add, disable, change roles, new sign-in links). */
export function canManageAccounts(admin: CurrentAdmin | null): boolean {
  return admin?.role === 'admin';
}
