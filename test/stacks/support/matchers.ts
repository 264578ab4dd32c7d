/**
 * CDKTF's own resource matchers, registered on Vitest's `expect`.
 * `Testing.setupJest()` needs a global Jest `expect`, so instead the matcher
 * functions are taken from cdktf's framework-neutral module and handed to
 * `expect.extend`. Properties may be given camelCase or snake_case.
 */
import { getToHaveResourceWithProperties, returnMatcherToJest, type TerraformConstructor } from 'cdktf/lib/testing/matchers.js';
import { expect } from 'vitest';

const toHaveResourceWithProperties = getToHaveResourceWithProperties();

expect.extend({
  toHaveResource(received: string, resourceType: TerraformConstructor) {
    return returnMatcherToJest(toHaveResourceWithProperties(received, resourceType, {}));
  },
  toHaveResourceWithProperties(received: string, resourceType: TerraformConstructor, properties: Record<string, unknown>) {
    return returnMatcherToJest(toHaveResourceWithProperties(received, resourceType, properties));
  },
});

declare module 'vitest' {
  // The type parameter must repeat Vitest's declaration exactly to merge with it.
  // biome-ignore lint/suspicious/noExplicitAny: Vitest declares Matchers<T = any>; a merge must match it.
  interface Matchers<T = any> {
    toHaveResource(resourceType: TerraformConstructor): T;
    toHaveResourceWithProperties(resourceType: TerraformConstructor, properties: Record<string, unknown>): T;
  }
}
