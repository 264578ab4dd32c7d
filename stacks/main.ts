/**
 * The CDKTF app (`cdktf synth` / `npm run synth`): bundles and packages the
 * functions once per cache backend the environments use (each bundle holds only
 * its environment's cache client), then synthesizes the dev, staging and prod
 * stacks into cdktf.out/stacks/<environment>/cdk.tf.json.
 */
import { App } from 'cdktf';
import { api } from '../declarations/api.js';
import { apiKeyExpiry, environmentNames, environments } from './config.js';
import { buildFunctionArtifacts, cacheBackendOf, type FunctionArtifact } from './lib/artifacts.js';
import { createStorefrontStacks } from './storefront-stack.js';

const ROTATION_WARNING_DAYS = 30;

const app = new App();
const artifactsByBackend = new Map<string, FunctionArtifact[]>();
for (const name of environmentNames) {
  const config = environments[name];
  const cacheBackend = cacheBackendOf(config.cache);
  let artifacts = artifactsByBackend.get(cacheBackend);
  if (!artifacts) {
    artifacts = await buildFunctionArtifacts({ cacheBackend });
    artifactsByBackend.set(cacheBackend, artifacts);
  }
  createStorefrontStacks(app, { artifacts, environments: [config] });
}
app.synth();

for (const name of environmentNames) {
  const expires = new Date(apiKeyExpiry(environments[name].api.apiKeyIssuedOn, api.apiKeyTtlDays));
  const daysLeft = Math.floor((expires.getTime() - Date.now()) / 86_400_000);
  if (daysLeft < ROTATION_WARNING_DAYS) {
    console.warn(`${name}: the API key expires ${expires.toISOString()} (${daysLeft} days); update apiKeyIssuedOn in stacks/config.ts`);
  }
}
