import { createContext, useContext } from 'react';
import type { CurrentAdmin } from '@/lib/roles';

export interface CurrentAdminValue {
  admin: CurrentAdmin;
  /** Asks admin-svc again who is signed in (e.g. after changing one's own role). */
  refresh: () => void;
}

/**
 * The signed-in admin, provided by the admin area's layout (AdminArea) to every admin page.
 * Outside it there is none, and pages show only what anyone may do.
 */
export const CurrentAdminContext = createContext<CurrentAdminValue | null>(null);

/** The signed-in admin, or null outside the admin area. */
export function useCurrentAdmin(): CurrentAdmin | null {
  return useContext(CurrentAdminContext)?.admin ?? null;
}

/** Asks who is signed in again; does nothing outside the admin area. */
export function useRefreshCurrentAdmin(): () => void {
  return useContext(CurrentAdminContext)?.refresh ?? noop;
}

function noop() {}
