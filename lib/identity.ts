import type { AppSyncIdentity } from 'aws-lambda';
import { DomainError } from './errors.js';
import { isCognitoIdentity } from './appsync/resolver-event.js';
import { api } from '../declarations/api.js';

/** The user-pool group allowed to write the catalog and move orders along (declared once, in declarations/api.ts). */
export const ADMIN_GROUP: string = api.adminGroup;

/** The signed-in user's `sub`, which owns the orders they place. */
export function callerSub(identity: AppSyncIdentity): string {
  if (isCognitoIdentity(identity)) return identity.sub;
  throw new DomainError('Unauthorized', 'This operation needs a signed-in user');
}

/** IAM callers are trusted back-end services; user-pool callers need the admin group. */
export function isPrivileged(identity: AppSyncIdentity): boolean {
  if (isCognitoIdentity(identity)) return (identity.groups ?? []).includes(ADMIN_GROUP);
  return typeof identity === 'object' && identity !== null && 'userArn' in identity;
}

export function requirePrivileged(identity: AppSyncIdentity): void {
  if (!isPrivileged(identity)) throw new DomainError('Unauthorized', `This operation needs the ${ADMIN_GROUP} group`);
}
