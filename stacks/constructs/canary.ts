import type { LambdaAliasConfig } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import type { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { Fn, Op, TerraformVariable, Token } from 'cdktf';
import type { Construct } from 'constructs';
import type { CanaryConfig, EnvironmentConfig } from '../config.js';

/**
 * Canary releases through the `live` alias's weighted routing.
 *
 * Every apply publishes a new version when the code changed (`publish: true`).
 * Without a canary the alias moves to it at once. With one, the alias's main
 * version stays on the version that was live before, and `weight` of the
 * invocations go to the new one. Which version was live before is deployment
 * state the stack cannot know (Terraform only knows the version it is about
 * to publish), so the deployer states it: the Terraform variable
 * `<function>_stable_version`, required while the canary is configured.
 * The deploy flow is in stacks/README.md.
 */

export type LiveAliasTarget = Pick<LambdaAliasConfig, 'functionVersion' | 'routingConfig' | 'lifecycle'>;

/** `catalog_stable_version`: plain, so deployers set TF_VAR_catalog_stable_version. */
export function stableVersionVariableName(functionName: string): string {
  return `${functionName}_stable_version`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** The canary configured for a function in this environment, if any. */
export function canaryOf(config: Pick<EnvironmentConfig, 'canary'>, functionName: string): CanaryConfig | undefined {
  const canaries: Readonly<Partial<Record<string, CanaryConfig>>> = config.canary ?? {};
  return canaries[functionName];
}

/** What the `live` alias points at: the version just published, or a stable version plus the new one at `weight`. */
export function liveAliasTarget(
  scope: Construct,
  functionName: string,
  fn: LambdaFunction,
  canary: CanaryConfig | undefined,
): LiveAliasTarget {
  if (!canary) return { functionVersion: fn.version };

  const stable = new TerraformVariable(scope, 'stable-version', {
    type: 'string',
    description: `Canary of ${functionName}: the version that keeps ${percent(1 - canary.weight)} of invocations (the live alias's version before this release)`,
    nullable: false,
  });
  stable.overrideLogicalId(stableVersionVariableName(functionName));
  stable.addValidation({
    condition: Fn.can(Fn.regex('^[0-9]+$', stable.stringValue)),
    errorMessage: 'A published version number, e.g. 12 (aws lambda get-alias --name live … --query FunctionVersion)',
  });

  return {
    functionVersion: stable.stringValue,
    // The key is the version this apply publishes, known only after the apply: built by Terraform.
    routingConfig: { additionalVersionWeights: Token.asNumberMap(Fn.zipmap([fn.version], [canary.weight])) },
    lifecycle: {
      precondition: [
        {
          // Lambda refuses an alias whose extra version is its main version; say why instead.
          condition: Op.neq(stable.stringValue, fn.version),
          errorMessage: `${functionName}: no new version to canary (the code did not change since the stable version); remove the canary from stacks/config.ts or change the code`,
        },
      ],
    },
  };
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}
