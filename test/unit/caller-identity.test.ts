/**
 * lib/identity.ts: who the caller is, from the identity AppSync sends. A
 * user-pool identity is a customer (its `sub` owns orders; the admin group
 * makes it privileged); an IAM identity is a trusted service; an
 * OPENID_CONNECT identity (staff through the company's identity provider)
 * shares `sub` and `claims` with the user-pool shape but is neither.
 */
import type { AppSyncIdentity } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { isCognitoIdentity } from '../../lib/appsync/resolver-event.js';
import { ADMIN_GROUP, callerSub, isPrivileged } from '../../lib/identity.js';
import { oidcIdentity } from '../../local/appsync/authentication.js';
import { cognitoIdentity, iamIdentity } from '../support/fixtures.js';

const now = Math.floor(Date.now() / 1000);
const customer = cognitoIdentity({ sub: 'customer-1' });
const admin = cognitoIdentity({ sub: 'admin-1', groups: [ADMIN_GROUP] });
const staff = oidcIdentity(
  { sub: 'customer-1', iss: 'https://login.example.org/', aud: 'app', exp: now + 60, iat: now, groups: [ADMIN_GROUP] },
  'https://login.example.org/',
  'customer-1',
);
const service = iamIdentity();

describe('caller identity', () => {
  it('takes a user-pool identity for a customer, whose sub owns orders', () => {
    expect(isCognitoIdentity(customer)).toBe(true);
    expect(callerSub(customer)).toBe('customer-1');
    expect(isPrivileged(customer)).toBe(false);
    expect(isPrivileged(admin)).toBe(true);
  });

  it('never takes an OIDC identity for a customer of the same sub, nor for an admin, whatever groups it claims', () => {
    expect(isCognitoIdentity(staff)).toBe(false);
    expect(() => callerSub(staff)).toThrow('This operation needs a signed-in user');
    expect(isPrivileged(staff)).toBe(false);
  });

  it('trusts IAM callers as back-end services, and refuses API-key callers a sub', () => {
    expect(isPrivileged(service)).toBe(true);
    expect(() => callerSub(null as unknown as AppSyncIdentity)).toThrow('This operation needs a signed-in user');
  });
});
