import { validationError } from './errors.js';

/**
 * Input checks that run before any write. Each throws a ValidationError that
 * names the offending argument, so a client can point at it.
 */

export function requireInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw validationError(`${name} must be an integer between ${min} and ${max}`, { field: name, value });
  }
  return value;
}

export function requireText(name: string, value: string, maxLength: number, minLength = 1): string {
  const trimmed = value.trim();
  if (trimmed.length < minLength || trimmed.length > maxLength) {
    throw validationError(`${name} must be ${minLength} to ${maxLength} characters`, { field: name });
  }
  return trimmed;
}

export function optionalText(name: string, value: string | null | undefined, maxLength: number): string | null {
  if (value === null || value === undefined) return null;
  return requireText(name, value, maxLength, 0) || null;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function requireToken(name: string, value: string): string {
  if (!TOKEN_PATTERN.test(value)) {
    throw validationError(`${name} must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'`, { field: name });
  }
  return value;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function pageSize(limit: number | null | undefined): number {
  if (limit === null || limit === undefined) return DEFAULT_PAGE_SIZE;
  return requireInt('limit', limit, 1, MAX_PAGE_SIZE);
}
