/**
 * @module security/claims
 * Which of this service's roles an identity provider's token grants: the
 * claim that holds the provider's role names (a dotted path such as
 * `realm_access.roles`, or a namespaced claim such as
 * `https://orders.example.com/roles`), and the map from those names to ours.
 */

import { ROLES, fail, ok, type Result, type Role } from '../protocol.ts';

/** The claim read when `AUTH_ROLE_CLAIM` is not set. */
export const DEFAULT_ROLE_CLAIM = 'role';

/** Provider role name -> our role. Empty: the provider's names are ours (`admin`, `operator`, `viewer`). */
export type RoleMap = ReadonlyMap<string, Role>;

/**
 * The value at `path` in the claims: first the whole path as one claim name
 * (Auth0's namespaced claims are URLs, full of dots), then each dotted step.
 * @param claims a verified token's payload
 * @param path the claim's name or dotted path
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/**
 * Our roles for a token's role claim: a string or an array of strings, each
 * mapped through `map` (or taken as is when the map is empty). Names that map
 * to nothing are ignored: a provider hands out roles of other applications too.
 * @param claims a verified token's payload
 * @param claim the claim's name or dotted path
 * @param map provider role name -> our role
 */
export function rolesFromClaims(claims: Readonly<Record<string, unknown>>, claim: string, map: RoleMap): Role[] {
  const value = claimAt(claims, claim);
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const roles = new Set<Role>();
  for (const name of names) {
    const role = map.size === 0 ? (isRole(name) ? name : undefined) : map.get(name);
    if (role !== undefined) roles.add(role);
  }
  return ROLES.filter((r) => roles.has(r));
}

/**
 * Parse `AUTH_ROLE_MAP`: `provider-name:role` pairs separated by commas, for
 * example `orders-admin:admin,orders-staff:operator`. Refuses an unknown role
 * or a name mapped twice, so a typo cannot silently grant or lock out.
 * @param text the variable's value
 */
export function parseRoleMap(text: string): Result<Map<string, Role>, string> {
  const map = new Map<string, Role>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = part.lastIndexOf(':');
    const name = colon < 0 ? '' : part.slice(0, colon).trim();
    const role = colon < 0 ? '' : part.slice(colon + 1).trim();
    if (name === '' || !isRole(role)) return fail(`"${part.slice(0, 100)}" is not name:role with role one of ${ROLES.join(', ')}`);
    if (map.has(name)) return fail(`"${name.slice(0, 100)}" is mapped twice`);
    map.set(name, role);
  }
  return ok(map);
}

function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}
