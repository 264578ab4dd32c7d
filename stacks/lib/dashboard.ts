import { Token } from 'cdktf';
import { terraformLiteral } from './terraform-literal.js';

/**
 * A CloudWatch dashboard body as typed values (the documented "Dashboard Body
 * Structure and Syntax"), laid out on CloudWatch's 24-column grid and
 * serialised to the JSON string `aws_cloudwatch_dashboard` takes.
 */

export type MetricStat = 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount' | `p${number}`;

/** One line of a metric widget. */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: MetricStat;
  readonly label?: string;
}

export interface HorizontalAnnotation {
  readonly label: string;
  readonly value: number;
}

export interface MetricWidgetSpec {
  readonly kind: 'metric';
  readonly title: string;
  readonly metrics: readonly MetricSpec[];
  /** Alarm thresholds drawn as horizontal lines, so a graph shows how close it is. */
  readonly thresholds?: readonly HorizontalAnnotation[];
  readonly width: number;
  readonly height?: number;
}

export interface TextWidgetSpec {
  readonly kind: 'text';
  readonly markdown: string;
  readonly width: number;
  readonly height?: number;
}

export interface AlarmWidgetSpec {
  readonly kind: 'alarm';
  readonly title: string;
  /** Alarm ARNs; CloudWatch shows at most 100 in one widget. */
  readonly alarms: readonly string[];
  readonly width: number;
  readonly height?: number;
}

export type WidgetSpec = MetricWidgetSpec | TextWidgetSpec | AlarmWidgetSpec;

/** `[namespace, metric, dim1, value1, ..., { stat, label }]`: CloudWatch's compact metric array. */
export type MetricRow = readonly [string, string, ...(string | MetricRenderOptions)[]];

export interface MetricRenderOptions {
  readonly stat: MetricStat;
  readonly label?: string;
}

interface Placement {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface MetricWidget extends Placement {
  readonly type: 'metric';
  readonly properties: {
    readonly title: string;
    readonly region: string;
    readonly view: 'timeSeries';
    readonly stacked: false;
    readonly period: number;
    readonly metrics: readonly MetricRow[];
    readonly yAxis: { readonly left: { readonly min: 0 } };
    readonly annotations?: { readonly horizontal: readonly HorizontalAnnotation[] };
  };
}

export interface TextWidget extends Placement {
  readonly type: 'text';
  readonly properties: { readonly markdown: string };
}

export interface AlarmWidget extends Placement {
  readonly type: 'alarm';
  readonly properties: { readonly title: string; readonly alarms: readonly string[] };
}

export type Widget = MetricWidget | TextWidget | AlarmWidget;

export interface DashboardBody {
  readonly start: string;
  readonly periodOverride: 'inherit';
  readonly widgets: readonly Widget[];
}

const GRID_COLUMNS = 24;
const DEFAULT_HEIGHT = 6;
const MAX_ALARMS_PER_WIDGET = 100;

export interface DashboardOptions {
  readonly region: string;
  /** Seconds per data point on every graph. */
  readonly period: number;
  /** Default time range, e.g. `-PT3H`. */
  readonly start: string;
}

/** Lays rows of widgets out left to right, top to bottom; a row's height is its tallest widget's. */
export function dashboardBody(rows: ReadonlyArray<readonly WidgetSpec[]>, options: DashboardOptions): DashboardBody {
  const widgets: Widget[] = [];
  let y = 0;
  for (const row of rows) {
    const width = row.reduce((sum, widget) => sum + widget.width, 0);
    if (width > GRID_COLUMNS) throw new Error(`A dashboard row is ${width} columns wide; the grid has ${GRID_COLUMNS}`);
    let x = 0;
    let rowHeight = 0;
    for (const spec of row) {
      const placement: Placement = { x, y, width: spec.width, height: spec.height ?? DEFAULT_HEIGHT };
      widgets.push(widget(spec, placement, options));
      x += spec.width;
      rowHeight = Math.max(rowHeight, placement.height);
    }
    y += rowHeight;
  }
  return { start: options.start, periodOverride: 'inherit', widgets };
}

function widget(spec: WidgetSpec, placement: Placement, options: DashboardOptions): Widget {
  switch (spec.kind) {
    case 'text':
      return { type: 'text', ...placement, properties: { markdown: spec.markdown } };
    case 'alarm':
      if (spec.alarms.length > MAX_ALARMS_PER_WIDGET)
        throw new Error(`An alarm widget shows at most ${MAX_ALARMS_PER_WIDGET} alarms, not ${spec.alarms.length}`);
      return { type: 'alarm', ...placement, properties: { title: spec.title, alarms: spec.alarms } };
    case 'metric':
      return {
        type: 'metric',
        ...placement,
        properties: {
          title: spec.title,
          region: options.region,
          view: 'timeSeries',
          stacked: false,
          period: options.period,
          metrics: spec.metrics.map(metricRow),
          yAxis: { left: { min: 0 } },
          ...(spec.thresholds && spec.thresholds.length > 0 ? { annotations: { horizontal: spec.thresholds } } : {}),
        },
      };
  }
}

export function metricRow(metric: MetricSpec): MetricRow {
  const dimensions = Object.entries(metric.dimensions).flat();
  const render: MetricRenderOptions = metric.label === undefined ? { stat: metric.stat } : { stat: metric.stat, label: metric.label };
  return [metric.namespace, metric.metricName, ...dimensions, render];
}

/**
 * The body as the JSON string Terraform receives. Every literal string is
 * escaped (terraformLiteral) so Terraform passes it on verbatim; a string that
 * is a CDKTF reference (an API id, an alarm ARN) is left for CDKTF to turn
 * into `${aws_….attr}`, which Terraform must evaluate. A string mixing the two
 * is treated as a reference, so its literal part must not hold `${` or `%{`.
 */
export function serializeDashboard(body: DashboardBody): string {
  return JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'string' && !Token.isUnresolved(value) ? terraformLiteral(value) : value,
  );
}
