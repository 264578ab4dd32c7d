import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue/index.js';
import { TerraformStack, Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { physicalTableName, tableNames } from '../../declarations/tables.js';
import { environmentNames, environments, type EnvironmentConfig } from '../../stacks/config.js';
import { AccountContext } from '../../stacks/constructs/account.js';
import { stableVersionVariableName } from '../../stacks/constructs/canary.js';
import { Observability } from '../../stacks/constructs/observability.js';
import { defaultDeclarations, type StackDeclarations } from '../../stacks/declarations.js';
import { dashboardBody, serializeDashboard, type DashboardBody } from '../../stacks/lib/dashboard.js';
import type { PolicyDocument } from '../../stacks/lib/policy-document.js';
import { evaluateTerraformLiteral } from '../../stacks/lib/terraform-literal.js';
import './support/matchers.js';
import {
  fakeArtifacts,
  ref,
  requireStack,
  resources,
  resourceWhere,
  synthStacks,
  scratchApp,
  useSynthesizedStacks,
  type TerraformJson,
} from './support/synth.js';

const declarations = defaultDeclarations();
const functionEntries = Object.entries(declarations.functions);
const artifacts = fakeArtifacts(Object.keys(declarations.functions));
const synthesized = useSynthesizedStacks({ artifacts, declarations });

const each = environmentNames.map((name) => [name] as const);
const { parsed } = synthesized;
const prefix = (name: string): string => `storefront-${name}`;

type Body = Record<string, unknown>;
interface MetricQuery {
  readonly id: string;
  readonly expression?: string;
  readonly return_data?: boolean;
  readonly metric?: { metric_name: string; namespace: string; dimensions: Record<string, string>; stat: string; period: number };
}

function alarm(stack: TerraformJson, name: string): Body {
  return resourceWhere(stack, 'aws_cloudwatch_metric_alarm', 'alarm_name', name)[1];
}

function topicArn(stack: TerraformJson, name: string): string {
  const [topicId] = resourceWhere(stack, 'aws_sns_topic', 'name', `${prefix(name)}-alarms`);
  return ref('aws_sns_topic', topicId, 'arn');
}

/** The dashboard body as CloudWatch receives it: Terraform's escapes undone, then parsed. */
function dashboard(stack: TerraformJson, name: string): { raw: string; body: DashboardBody } {
  const [, body] = resourceWhere(stack, 'aws_cloudwatch_dashboard', 'dashboard_name', prefix(name));
  const raw = String(body.dashboard_body);
  return { raw, body: JSON.parse(evaluateTerraformLiteral(raw)) as DashboardBody };
}

describe('alarms', () => {
  it.each(each)('%s: every function has error-rate, throttle and p99 duration alarms at the configured thresholds', (name) => {
    const stack = parsed(name);
    const { alarms } = environments[name];
    for (const [fn, declaration] of functionEntries) {
      const dimensions = { FunctionName: `${prefix(name)}-${fn}` };

      const errorRate = alarm(stack, `${prefix(name)}-lambda-${fn}-error-rate`);
      expect(errorRate).toMatchObject({ comparison_operator: 'GreaterThanThreshold', threshold: alarms.lambdaErrorRatePercent });
      const queries = errorRate.metric_query as MetricQuery[];
      expect(queries.filter((q) => q.metric).map((q) => [q.metric?.metric_name, q.metric?.dimensions, q.metric?.stat])).toEqual([
        ['Errors', dimensions, 'Sum'],
        ['Invocations', dimensions, 'Sum'],
      ]);
      expect(queries.filter((q) => q.return_data)).toEqual([
        expect.objectContaining({ expression: 'IF(invocations > 0, 100 * errors / invocations, 0)' }),
      ]);

      expect(alarm(stack, `${prefix(name)}-lambda-${fn}-throttles`)).toMatchObject({
        namespace: 'AWS/Lambda',
        metric_name: 'Throttles',
        dimensions,
        statistic: 'Sum',
        threshold: alarms.lambdaThrottles,
      });

      const duration = alarm(stack, `${prefix(name)}-lambda-${fn}-duration-p99`);
      expect(duration).toMatchObject({
        namespace: 'AWS/Lambda',
        metric_name: 'Duration',
        dimensions,
        extended_statistic: 'p99',
        threshold: alarms.lambdaDurationP99Ms,
        evaluate_low_sample_count_percentiles: 'ignore',
      });
      expect(duration.statistic).toBeUndefined();
      expect(alarms.lambdaDurationP99Ms).toBeLessThan(declaration.timeoutSeconds * 1000);
    }
  });

  it.each(each)('%s: the API alarms on 5XX errors and p99 latency', (name) => {
    const stack = parsed(name);
    const [graphqlId] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
    const dimensions = { GraphQLAPIId: ref('aws_appsync_graphql_api', graphqlId, 'id') };
    expect(alarm(stack, `${prefix(name)}-appsync-5xx`)).toMatchObject({
      namespace: 'AWS/AppSync',
      metric_name: '5XXError',
      dimensions,
      statistic: 'Sum',
      comparison_operator: 'GreaterThanThreshold',
      threshold: environments[name].alarms.appsyncServerErrors,
    });
    expect(alarm(stack, `${prefix(name)}-appsync-latency-p99`)).toMatchObject({
      namespace: 'AWS/AppSync',
      metric_name: 'Latency',
      dimensions,
      extended_statistic: 'p99',
      threshold: environments[name].alarms.appsyncLatencyP99Ms,
    });
  });

  it.each(each)('%s: every table alarms on its read and write throttle events', (name) => {
    const stack = parsed(name);
    for (const table of tableNames) {
      const throttles = alarm(stack, `${prefix(name)}-dynamodb-${table}-throttles`);
      expect(throttles.threshold).toBe(environments[name].alarms.dynamodbThrottledRequests);
      const metrics = (throttles.metric_query as MetricQuery[]).flatMap((q) =>
        q.metric ? [[q.metric.metric_name, q.metric.dimensions.TableName]] : [],
      );
      expect(metrics).toEqual([
        ['ReadThrottleEvents', physicalTableName(prefix(name), table)],
        ['WriteThrottleEvents', physicalTableName(prefix(name), table)],
      ]);
    }
  });

  it.each(each)('%s: every alarm notifies the alarm topic, on alarm and on recovery; nothing else is alarmed', (name) => {
    const stack = parsed(name);
    const arn = topicArn(stack, name);
    const alarms = resources(stack, 'aws_cloudwatch_metric_alarm');
    // Dead-letter queues (if the stack has any) each add one, on a queue of this stack.
    const queueAlarms = alarms.filter(([, body]) => body.namespace === 'AWS/SQS');
    for (const [, body] of queueAlarms)
      expect((body.dimensions as { QueueName: string }).QueueName).toMatch(/^\$\{aws_sqs_queue\.[^.]+\.name\}$/);
    // The API has five (5XX, 4XX rate, p99 latency, real-time connect and publish errors), plus WAF blocks where there is a web ACL.
    const config: EnvironmentConfig = environments[name];
    const apiAlarms = 5 + (config.waf ? 1 : 0);
    expect(alarms).toHaveLength(functionEntries.length * 3 + apiAlarms + tableNames.length + queueAlarms.length);
    for (const [, body] of alarms) {
      expect(body).toMatchObject({ alarm_actions: [arn], ok_actions: [arn], treat_missing_data: 'notBreaching' });
      expect(String(body.alarm_name)).toMatch(new RegExp(`^${prefix(name)}-`));
    }
  });

  it.each(each)(
    "%s: the topic is encrypted with its own key, which CloudWatch may use, and admits only this deployment's alarms",
    (name) => {
      const stack = parsed(name);
      const [topicId, topic] = resourceWhere(stack, 'aws_sns_topic', 'name', `${prefix(name)}-alarms`);
      const keyId = /^\$\{aws_kms_key\.([^.]+)\.arn\}$/.exec(String(topic.kms_master_key_id))?.[1] ?? '';
      const key = stack.resource.aws_kms_key?.[keyId];
      expect(key).toMatchObject({ enable_key_rotation: true });
      const keyPolicy = JSON.parse(String(key?.policy)) as PolicyDocument;
      expect(keyPolicy.Statement.find((s) => s.Sid === 'CloudWatchAlarms')).toEqual({
        Sid: 'CloudWatchAlarms',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
      });

      const [, topicPolicy] = resourceWhere(stack, 'aws_sns_topic_policy', 'arn', ref('aws_sns_topic', topicId, 'arn'));
      expect((JSON.parse(String(topicPolicy.policy)) as PolicyDocument).Statement).toEqual([
        {
          Sid: 'CloudWatchAlarms',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['sns:Publish'],
          Resource: [ref('aws_sns_topic', topicId, 'arn')],
          Condition: {
            StringEquals: { 'aws:SourceAccount': expect.stringContaining('aws_caller_identity') },
            ArnLike: {
              'aws:SourceArn': expect.stringMatching(new RegExp(`:cloudwatch:${environments[name].region}:.+:alarm:${prefix(name)}-\\*$`)),
            },
          },
        },
      ]);
      // No address is configured for the shipped environments.
      expect(resources(stack, 'aws_sns_topic_subscription')).toEqual([]);
    },
  );

  it('subscribes the configured email address', () => {
    const config: EnvironmentConfig = { ...environments.staging, alarmEmail: 'oncall@example.com' };
    const stack = requireStack(synthStacks({ environments: [config], artifacts, declarations }), 'staging').parsed;
    expect(resources(stack, 'aws_sns_topic_subscription').map(([, body]) => body)).toEqual([
      { topic_arn: topicArn(stack, 'staging'), protocol: 'email', endpoint: 'oncall@example.com' },
    ]);
    expect(() => synthStacks({ environments: [{ ...config, alarmEmail: 'oncall' }], artifacts, declarations })).toThrow(
      /not an email address/,
    );
  });

  it('refuses a p99 threshold no function could reach before its timeout', () => {
    const config: EnvironmentConfig = { ...environments.dev, alarms: { ...environments.dev.alarms, lambdaDurationP99Ms: 60_000 } };
    expect(() => synthStacks({ environments: [config], artifacts, declarations })).toThrow(/must be below .+'s timeout/);
  });

  it('matches with the CDKTF matchers too', () => {
    expect(synthesized.stack('prod').json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarmName: 'storefront-prod-appsync-5xx',
      threshold: environments.prod.alarms.appsyncServerErrors,
    });
  });
});

describe('dead-letter queues', () => {
  /** The construct alone in a scratch stack, watching one queue the test creates. */
  function observe(queues: boolean): TerraformJson {
    const app = scratchApp();
    const stack = new TerraformStack(app, 'scratch');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const queue = new SqsQueue(stack, 'dlq', { name: 'scratch-stream-dlq', sqsManagedSseEnabled: true });
    new Observability(stack, 'observability', {
      account: new AccountContext(stack, 'account', 'eu-west-1'),
      prefix: 'scratch',
      config: environments.prod,
      functions: [{ name: 'stream', physicalName: 'scratch-stream', timeoutSeconds: 30 }],
      api: { id: 'api-id', name: 'scratch' },
      tables: [],
      queues: queues ? [{ name: 'stream-dlq', queueName: queue.name }] : [],
    });
    return JSON.parse(Testing.synth(stack)) as TerraformJson;
  }

  it('alarms as soon as a message is waiting, notifying the topic, and graphs the queue', () => {
    const stack = observe(true);
    const [queueId] = resourceWhere(stack, 'aws_sqs_queue', 'name', 'scratch-stream-dlq');
    const arn = ref('aws_sns_topic', resourceWhere(stack, 'aws_sns_topic', 'name', 'scratch-alarms')[0], 'arn');
    expect(alarm(stack, 'scratch-sqs-stream-dlq-depth')).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: ref('aws_sqs_queue', queueId, 'name') },
      statistic: 'Maximum',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      period: 60,
      alarm_actions: [arn],
    });
    const [, dashboardResource] = resourceWhere(stack, 'aws_cloudwatch_dashboard', 'dashboard_name', 'scratch');
    const body = JSON.parse(evaluateTerraformLiteral(String(dashboardResource.dashboard_body))) as DashboardBody;
    expect(body.widgets.filter((w) => w.type === 'metric' && w.properties.title.startsWith('Queue stream-dlq:'))).toHaveLength(2);
  });

  it('adds no queue alarm without a queue', () => {
    expect(resources(observe(false), 'aws_cloudwatch_metric_alarm').filter(([, body]) => body.namespace === 'AWS/SQS')).toEqual([]);
  });
});

describe('dashboard', () => {
  it.each(each)('%s: one dashboard graphing every function, the API and every table', (name) => {
    const stack = parsed(name);
    expect(resources(stack, 'aws_cloudwatch_dashboard')).toHaveLength(1);
    const { body } = dashboard(stack, name);
    const metricWidgets = body.widgets.flatMap((w) => (w.type === 'metric' ? [w] : []));
    const dimensionValues = new Set(
      metricWidgets.flatMap((w) => w.properties.metrics.flatMap((row) => row.filter((cell) => typeof cell === 'string'))),
    );

    for (const [fn] of functionEntries) {
      expect(dimensionValues, fn).toContain(`${prefix(name)}-${fn}`);
      const titles = metricWidgets
        .filter((w) => w.properties.title.startsWith(`Function ${fn}:`))
        .map((w) => w.properties.title.split(': ')[1]);
      expect(titles).toEqual(['invocations', 'errors', 'duration (ms)', 'throttles', 'concurrent executions']);
    }
    const [graphqlId] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
    expect(dimensionValues).toContain(ref('aws_appsync_graphql_api', graphqlId, 'id'));
    for (const metric of ['Requests', '4XXError', '5XXError', 'Latency']) expect(dimensionValues).toContain(metric);
    for (const table of tableNames) expect(dimensionValues).toContain(physicalTableName(prefix(name), table));
    for (const metric of ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents']) {
      expect(dimensionValues).toContain(metric);
    }
    expect(metricWidgets.every((w) => w.properties.region === environments[name].region)).toBe(true);

    // Laid out on the 24-column grid without overlaps.
    const cells = new Set<string>();
    for (const widget of body.widgets) {
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
      for (let x = widget.x; x < widget.x + widget.width; x++) {
        for (let y = widget.y; y < widget.y + widget.height; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }

    // The alarm widget lists every alarm of the stack.
    const alarmWidget = body.widgets.find((w) => w.type === 'alarm');
    expect(alarmWidget?.type === 'alarm' ? alarmWidget.properties.alarms : []).toHaveLength(
      resources(stack, 'aws_cloudwatch_metric_alarm').length,
    );
  });

  it.each(each)('%s: the body reaches Terraform with references only: every other `${` is escaped', (name) => {
    const { raw } = dashboard(parsed(name), name);
    const templates = [...raw.matchAll(/(^|[^$])\$\{([^}]*)\}/g)].map((match) => match[2]);
    expect(templates.length).toBeGreaterThan(0);
    for (const template of templates) expect(template).toMatch(/^aws_[a-z_]+\.[A-Za-z0-9_-]+\.(id|arn|name)$/);
  });

  it('escapes literal template syntax and passes references through', () => {
    const app = scratchApp();
    const stack = new TerraformStack(app, 'scratch');
    const queueArn = new SqsQueue(stack, 'q', { name: 'q' }).arn;
    const body = dashboardBody(
      [[{ kind: 'text', width: 24, markdown: 'cost: ${price} %{if x}' }], [{ kind: 'alarm', title: 't', width: 24, alarms: [queueArn] }]],
      { region: 'eu-west-1', period: 60, start: '-PT3H' },
    );
    const serialized = serializeDashboard(body);
    expect(serialized).toContain('cost: $${price} %%{if x}');
    expect(serialized).toContain(`"alarms":["${queueArn}"]`);
    expect(() =>
      dashboardBody(
        [
          [
            { kind: 'text', width: 13, markdown: 'a' },
            { kind: 'text', width: 12, markdown: 'b' },
          ],
        ],
        { region: 'r', period: 60, start: '-PT1H' },
      ),
    ).toThrow(/25 columns/);
  });
});

describe('canary via alias routing', () => {
  const canaryConfig: EnvironmentConfig = { ...environments.prod, canary: { catalog: { weight: 0.1 } } };

  function canaryStack(config: EnvironmentConfig = canaryConfig, decl: StackDeclarations = declarations): TerraformJson {
    return requireStack(synthStacks({ environments: [config], artifacts, declarations: decl }), config.name).parsed;
  }

  it('keeps the live alias on the stable version and sends the weight to the version just published', () => {
    const stack = canaryStack();
    const [functionId] = resourceWhere(stack, 'aws_lambda_function', 'function_name', 'storefront-prod-catalog');
    const [, alias] = resourceWhere(stack, 'aws_lambda_alias', 'function_name', ref('aws_lambda_function', functionId, 'function_name'));
    const variable = stableVersionVariableName('catalog');
    const published = `aws_lambda_function.${functionId}.version`;
    expect(alias).toMatchObject({
      name: 'live',
      function_version: `\${var.${variable}}`,
      routing_config: { additional_version_weights: `\${zipmap([${published}], [0.1])}` },
      lifecycle: {
        precondition: [{ condition: `\${(var.${variable} != ${published})}`, error_message: expect.stringMatching(/no new version/) }],
      },
    });
    // Required (no default): a canary cannot be planned without saying what is stable.
    expect(stack.variable?.[variable]).toMatchObject({
      type: 'string',
      nullable: false,
      validation: [{ condition: `\${can(regex("^[0-9]+$", var.${variable}))}` }],
    });
    expect(stack.variable?.[variable]).not.toHaveProperty('default');
  });

  it("leaves the other functions' aliases on the version just published", () => {
    const stack = canaryStack();
    for (const [fn] of functionEntries.filter(([fn]) => fn !== 'catalog')) {
      const [functionId] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `storefront-prod-${fn}`);
      const [, alias] = resourceWhere(stack, 'aws_lambda_alias', 'function_name', ref('aws_lambda_function', functionId, 'function_name'));
      expect(alias.function_version).toBe(ref('aws_lambda_function', functionId, 'version'));
      expect(alias.routing_config).toBeUndefined();
    }
    expect(Object.keys(stack.variable ?? {}).filter((name) => name.endsWith('_stable_version'))).toEqual(['catalog_stable_version']);
  });

  it.each(each)('%s: no canary is configured in the shipped environments', (name) => {
    expect(Object.keys(parsed(name).variable ?? {}).filter((variable) => variable.endsWith('_stable_version'))).toEqual([]);
  });

  it('refuses a weight outside (0, 1)', () => {
    for (const weight of [0, 1, 1.5, -0.1]) {
      expect(() => canaryStack({ ...canaryConfig, canary: { catalog: { weight } } })).toThrow(/canary weight must be between 0 and 1/);
    }
  });
});
