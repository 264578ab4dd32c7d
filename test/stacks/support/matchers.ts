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
  toHaveResource(received: string, constructor: TerraformConstructor) {
    return returnMatcherToJest(toHaveResourceWithProperties(received, constructor, {}));
  },
  toHaveResourceWithProperties(received: string, constructor: TerraformConstructor, properties: Record<string, unknown>) {
    return returnMatcherToJest(toHaveResourceWithProperties(received, constructor, properties));
  },
});

declare module 'vitest' {
  // The type parameter must repeat Vitest's declaration exactly to merge with it.
  interface Matchers<T = any> {
    toHaveResource(constructor: TerraformConstructor): T;
    toHaveResourceWithProperties(constructor: TerraformConstructor, properties: Record<string, unknown>): T;
  }
}
