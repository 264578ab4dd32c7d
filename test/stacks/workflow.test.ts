/**
 * The deploy workflow (.github/workflows/deploy.yml), parsed as YAML: its
 * triggers, permissions (OIDC, nothing else writable), the jobs and their
 * order (build once; plan each environment on a pull request; apply dev, then
 * staging, then prod behind its environment on main), one artifact from build
 * to every later job, one deploy at a time per environment, and no AWS key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repositoryRoot } from '../../declarations/paths.js';
import { environmentNames } from '../../stacks/config.js';

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
}
interface Job {
  readonly if?: string;
  readonly needs?: string | string[];
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly concurrency?: { group: string; 'cancel-in-progress': boolean };
  readonly strategy?: { matrix: { include: { environment: string; role: string }[] } };
  readonly defaults?: { run: { 'working-directory': string } };
  readonly steps: Step[];
}
interface Workflow {
  readonly on: Record<string, { branches?: string[] }>;
  readonly permissions: Record<string, string>;
  readonly env: Record<string, unknown>;
  readonly jobs: Record<string, Job>;
}

const file = join(repositoryRoot, '.github/workflows/deploy.yml');
const text = readFileSync(file, 'utf8');
const workflow = parse(text) as Workflow;
const job = (name: string): Job => {
  const found = workflow.jobs[name];
  if (!found) throw new Error(`deploy.yml has no job ${name}`);
  return found;
};
const runs = (candidate: Job): string[] => candidate.steps.flatMap((step) => (step.run ? [step.run.trim()] : []));
const uses = (candidate: Job, action: string): Step[] => candidate.steps.filter((step) => step.uses?.startsWith(`${action}@`));
const deployJobs = environmentNames.map((name) => `deploy-${name}`);
const ARTIFACT = 'synthesized-stacks';

/** A job that assumes a role: OIDC token, read-only contents, the role from a variable, the synthesized artifact. */
function expectAwsJob(candidate: Job, role: RegExp): void {
  expect(candidate.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  const [credentials, ...more] = uses(candidate, 'aws-actions/configure-aws-credentials');
  expect(more).toEqual([]);
  expect(String(credentials?.with?.['role-to-assume'])).toMatch(role);
  const [download] = uses(candidate, 'actions/download-artifact');
  expect(download?.with).toEqual({ name: ARTIFACT, path: 'cdktf.out/stacks' });
  // The artifact comes first: nothing is checked out or rebuilt after the build job.
  expect(candidate.steps[0]).toBe(download);
  expect(uses(candidate, 'actions/checkout')).toEqual([]);
  expect(runs(candidate).some((run) => run.includes('npm'))).toBe(false);
}

describe('deploy workflow', () => {
  it('runs on pull requests to main and on pushes to main, with nothing writable by default', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.on.pull_request?.branches).toEqual(['main']);
    expect(workflow.on.push?.branches).toEqual(['main']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    // Only a job that assumes a role may ask for an ID token, and no job may write anything else.
    for (const [name, candidate] of Object.entries(workflow.jobs)) {
      const writes = Object.entries(candidate.permissions ?? {})
        .filter(([, level]) => level === 'write')
        .map(([scope]) => scope);
      expect(writes, name).toEqual(uses(candidate, 'aws-actions/configure-aws-credentials').length > 0 ? ['id-token'] : []);
    }
  });

  it('builds once: install, lint, test, schema gate, synth, and uploads cdktf.out/stacks as the one artifact', () => {
    const build = job('build');
    expect(build.needs).toBeUndefined();
    expect(build.if).toBeUndefined();
    const commands = runs(build);
    const order = ['npm ci', 'npm run lint', 'npm test', 'npm run schema:check', 'npm run synth'].map((command) =>
      commands.indexOf(command),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const [upload] = uses(build, 'actions/upload-artifact');
    expect(upload?.with).toMatchObject({ name: ARTIFACT, path: 'cdktf.out/stacks', 'if-no-files-found': 'error' });
    expect(build.steps.indexOf(upload as Step)).toBe(build.steps.length - 1);
    expect(uses(build, 'aws-actions/configure-aws-credentials')).toEqual([]);
    // Terraform 1.10 or later: the S3 backend's native lock file.
    expect(String(workflow.env.TERRAFORM_VERSION)).toMatch(/^1\.(1[0-9]|[2-9][0-9])\.\d+$/);
  });

  it('on a pull request, plans every environment in its synthesized directory with a read-only role and no state lock', () => {
    const plan = job('plan');
    expect(plan.if).toBe("github.event_name == 'pull_request'");
    expect(plan.needs).toBe('build');
    expect(plan.environment).toBeUndefined();
    expect(plan.strategy?.matrix.include.map((entry) => entry.environment)).toEqual(environmentNames);
    for (const entry of plan.strategy?.matrix.include ?? [])
      expect(entry.role).toBe(`AWS_PLAN_ROLE_ARN_${entry.environment.toUpperCase()}`);
    expectAwsJob(plan, /^\$\{\{ vars\[matrix\.role\] \}\}$/);
    expect(plan.defaults?.run['working-directory']).toBe('cdktf.out/stacks/${{ matrix.environment }}');
    expect(runs(plan)).toEqual(['terraform init', 'terraform plan -lock=false -no-color']);
  });

  it('on main, applies dev, then staging, then prod, each in its environment, one at a time, the plan it just made', () => {
    expect(deployJobs.map((name) => job(name).needs)).toEqual(['build', 'deploy-dev', 'deploy-staging']);
    for (const [index, name] of environmentNames.entries()) {
      const deploy = job(deployJobs[index] as string);
      expect(deploy.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
      expect(deploy.environment).toBe(name);
      expect(deploy.concurrency).toEqual({ group: `deploy-${name}`, 'cancel-in-progress': false });
      expect(deploy.defaults?.run['working-directory']).toBe(`cdktf.out/stacks/${name}`);
      expectAwsJob(deploy, /^\$\{\{ vars\.AWS_DEPLOY_ROLE_ARN \}\}$/);
      const commands = runs(deploy);
      expect(commands[0]).toBe('terraform init');
      expect(commands.filter((command) => command.startsWith('terraform plan'))).toEqual([expect.stringContaining('-out=tfplan')]);
      expect(commands.at(-1)).toMatch(/^terraform apply .*tfplan$/);
      expect(commands.some((command) => command.includes('-auto-approve'))).toBe(false);
    }
    // No other job applies anything.
    const appliers = Object.entries(workflow.jobs).filter(([, candidate]) =>
      runs(candidate).some((run) => run.includes('terraform apply')),
    );
    expect(appliers.map(([name]) => name).sort()).toEqual([...deployJobs].sort());
  });

  it('references no AWS access key, and pins every action to a version', () => {
    for (const forbidden of [
      /AWS_SECRET_ACCESS_KEY/i,
      /AWS_ACCESS_KEY_ID/i,
      /aws-secret-access-key/i,
      /aws-access-key-id/i,
      /secrets\.AWS/i,
    ])
      expect(text).not.toMatch(forbidden);
    const actions = Object.values(workflow.jobs).flatMap((candidate) => candidate.steps.flatMap((step) => (step.uses ? [step.uses] : [])));
    for (const action of actions) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
  });
});
