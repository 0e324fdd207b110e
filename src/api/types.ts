/**
 * The answers of AlertChart's resource API as the pages read them, in one
 * place. Field names are the Go JSON tags of the types named on each
 * interface (pkg/resources, pkg/pipeline, pkg/delivery, pkg/chartplan,
 * pkg/channels); keep them in step when those change.
 */

/** The roles a route may need (Go: resources.Access names). */
export type RequiredRole = 'Alertmanager' | 'Viewer' | 'Editor' | 'Admin';

/** A 403 answer: what is needed, none of the route's data (Go: resources.denial). */
export interface Denial {
  error: string;
  requiredRole: RequiredRole;
}

/** Any other error answer (Go: intake.Error as JSON). */
export interface ErrorAnswer {
  error: string;
  field?: string;
}

/** A health check's outcome (Go: pipeline.Check.Status). */
export type CheckStatus = 'ok' | 'warning' | 'error' | 'skipped';

/** Every status a check can have, for the dictionary test. */
export const CHECK_STATUSES: readonly CheckStatus[] = ['ok', 'warning', 'error', 'skipped'];

/**
 * One line of the health report (Go: pipeline.Check). `code` is a stable
 * message id `<check>.<state>` (e.g. settings.valid, grafana.no_renderer)
 * whose translation, filled from `args`, the page shows in the user's
 * language; `message` is the backend's English text, shown when the page
 * has no translation for the code.
 */
export interface HealthCheck {
  name: string;
  status: CheckStatus;
  message: string;
  code?: string;
  args?: Record<string, string | number>;
}

/** GET health (Go: pipeline.Health). */
export interface Health {
  status: 'ok' | 'warning' | 'error';
  /** The summary in English; `code`/`args` say it in any language (summary.ready, summary.restricted_warning…). */
  message: string;
  code?: string;
  args?: Record<string, string | number>;
  checks?: HealthCheck[];
  /** False in the report for callers who are not administrators: no checks, only the summary. */
  detailed?: boolean;
}

/** The platform's answer to a send (Go: channels.Result). */
export interface SendResult {
  statusCode?: number;
  body?: string;
  requests?: number;
  note?: string;
}

/** POST channels/{name}/test (Go: resources.testAnswer). */
export interface TestAnswer {
  ok: boolean;
  error?: string;
  kind?: string;
  result?: SendResult;
}

/** One alert as Alertmanager sends it (webhook v4). */
export interface AmAlert {
  status: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
}

/** Alertmanager webhook v4 payload (what POST explain / preview read). */
export interface WebhookPayload {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AmAlert[];
}

/** GET recent: one item of `alerts` (Go: delivery.RecentAlert), read from the queue database. */
export interface RecentAlert {
  receiver: string;
  receivedAt: string;
  alert: AmAlert;
  /** The Alertmanager's URL from the payload. */
  externalURL?: string;
}

/** GET recent. */
export interface RecentList {
  alerts: RecentAlert[];
}

/** A Go duration as JSON (settings.Duration): "10m0s", or seconds. */
export type GoDuration = string | number;

/**
 * A threshold comparison (Go: series.Threshold). The range ops are Grafana
 * Alerting's: within_range is value < x < upper, outside_range x < value or
 * x > upper, the _included forms with <= and >=.
 */
export type ThresholdOp =
  | '>'
  | '>='
  | '<'
  | '<='
  | '=='
  | '!='
  | 'within_range'
  | 'outside_range'
  | 'within_range_included'
  | 'outside_range_included';

/** A threshold line, or a band when `upper` is set (Go: series.Threshold). */
export interface Threshold {
  op: ThresholdOp;
  /** The line's value; a band's lower bound. */
  value: number;
  /** The series it applies to when not all ("5m, 1h": the windows of one burn-rate tier). */
  series?: string;
  /** A band's upper bound (range ops only). */
  upper?: number;
}

/** The alert a plan is for (Go: chartplan.AlertRef). */
export interface PlanAlert {
  name: string;
  status: string;
  fingerprint?: string;
  labels: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorUrl?: string;
}

/** The alerting rule behind an alert (Go: chartplan.Rule). */
export interface PlanRule {
  name: string;
  group?: string;
  file?: string;
  expr: string;
  for: GoDuration;
  keepFiringFor?: GoDuration;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A query whose series are a moving threshold (Go: chartplan.Reference). */
export interface PlanReference {
  op: string;
  query: string;
}

/** One query of a rule that alerts on several expressions (Go: chartplan.Part). */
export interface PlanPart {
  /** Tells the part apart in legends and threshold labels ("5m"). */
  name: string;
  query: string;
  thresholds?: Threshold[];
  /** The alert's labels this part's series need not carry. */
  free?: string[];
}

/** The alerts behind a digest's overview chart (Go: chartplan.Overview). */
export interface PlanOverview {
  alerts: number;
  group: number;
  charted: number;
  rules: number;
  note?: string;
}

/** One data query of a Grafana-managed rule, as charted (Go: chartplan.GrafanaQuery). */
export interface GrafanaQuery {
  refId: string;
  datasourceUid: string;
  datasourceType?: string;
  datasourceName?: string;
  /** The query as the rule has it (PromQL, SQL, LogQL…). */
  expr?: string;
  /** What is run instead when it differs: the PromQL with the alert's labels injected. */
  query?: string;
  injectedLabels?: Record<string, string>;
  postFilterLabels?: Record<string, string>;
  /** The query model sent to /api/ds/query. */
  model: Record<string, unknown> | null;
}

/** What is particular to an alert of a Grafana-managed rule (Go: chartplan.GrafanaPlan). */
export interface GrafanaPlan {
  ruleUid: string;
  /** The Grafana API the rule was read through. */
  api?: string;
  folderUid?: string;
  /** The refId that decides the rule. */
  condition?: string;
  /** How the condition is computed, one step a line: "C: threshold B > 80", "B: reduce last(A)", … */
  chain?: string[];
  queries?: GrafanaQuery[];
  /** The labels a returned series must carry with the alert's values. */
  match?: Record<string, string>;
  /** An overview's narrowing: a series' value of each label must be one of these. */
  matchAny?: Record<string, string[]>;
  /** The alert stands for every series of its query (classic conditions): all are charted. */
  anySeries?: boolean;
  /** The longest relative time range the rule evaluates: the window is never shorter. */
  relativeRange?: GoDuration;
  /** The alert's values as Grafana reported them, by refId. */
  values?: Record<string, number>;
}

/** A chart plan: what is charted and how it was decided (Go: chartplan.Plan). */
export interface Plan {
  alert: PlanAlert;
  rule?: PlanRule;
  /** How the charted expression was found (chartplan.Source*: rules_api, grafana_rule, …). */
  source: string;
  expr?: string;
  query?: string;
  thresholds?: Threshold[];
  references?: PlanReference[];
  /** Parts of the rule the chart does not draw. */
  conditions?: string[];
  injectedLabels?: Record<string, string>;
  /** Added as regex unions (label=~"a|b") by an overview. */
  injectedAny?: Record<string, string[]>;
  postFilterLabels?: Record<string, string>;
  /** The postFilterLabels a series may lack (added by the rule or the evaluator). */
  postFilterOptional?: string[];
  /** The queries fetched one by one (operands of `or`, windows of a burn-rate tier), each with its thresholds. */
  parts?: PlanPart[];
  /** Comparisons kept inside a non-monotone aggregation (sum(x > 5)): no line is drawn for them. */
  keptFilters?: string[];
  /** What evaluated the rule: prometheus, vmalert, thanos, mimir, grafana; absent when unknown. */
  evaluator?: string;
  /** The alert's labels the evaluator added: never injected. */
  evaluatorLabels?: string[];
  /** The range actually drawn; it may be longer than `window` (see rangeReason). */
  start: string;
  end: string;
  step: GoDuration;
  /** The span the rule's `for` asked for. */
  window: GoDuration;
  /** Why start–end is not the last `window` (e.g. widened to include an old startsAt). */
  rangeReason?: string;
  /** startsAt minus the rule's `for`: when the condition began. */
  pendingAt?: string;
  title: string;
  unit?: string;
  legend?: string;
  timezone: string;
  language: string;
  noDataNote?: string;
  /** The chart_* annotations applied. */
  overrides?: string[];
  fallbacks?: string[];
  noChartReason?: string;
  overview?: PlanOverview;
  grafana?: GrafanaPlan;
}

/** POST explain (Go: resources.explainAnswer). */
export interface ExplainAnswer {
  plans: Plan[];
  /** Alerts beyond the 50 planned. */
  omitted?: number;
}

/** POST preview (Go: resources.previewAnswer). */
export interface PreviewAnswer {
  plan: Plan;
  image?: string;
  renderer?: string;
  fallbackReason?: string;
  /** A degradation worth knowing, e.g. series dropped over chart.maxSeries. */
  note?: string;
  imageError?: string;
}

/** Delivery and channel states (Go: the delivery records' status values). */
export type DeliveryStatus = 'pending' | 'sent' | 'partial' | 'failed';
export type ChannelStatus = 'pending' | 'sent' | 'failed' | 'deduplicated';
/** What one send carried (Go: channels.Part* and digests). */
export type SendPart = 'text' | 'chart' | 'both' | 'digest';

/** A notification's delivery to one channel (Go: delivery.ChannelDelivery). */
export interface ChannelDelivery {
  channel: string;
  type: string;
  status: ChannelStatus;
  attempts: number;
  lastError: string;
  /** What the text send carried (text alone, text and chart, a digest); absent until sent. */
  part?: SendPart;
  textSentAt: string | null;
  chartSentAt: string | null;
  /** Milliseconds from receipt to the text / chart being accepted; null until sent. */
  textLatencyMs: number | null;
  chartLatencyMs: number | null;
  renderer: string;
  fallbackReason: string;
  chartNote: string;
}

/** One send attempt (Go: delivery.Attempt). */
export interface Attempt {
  channel: string;
  part: SendPart;
  at: string;
  ok: boolean;
  error: string;
  statusCode: number;
  durationMs: number;
}

/** One alert of a delivery record (Go: delivery.alertSummary). */
export interface AlertSummary {
  fingerprint: string;
  alertname: string;
  status: string;
  instance?: string;
  severity?: string;
}

/** One accepted webhook notification (Go: delivery.Delivery). */
export interface Delivery {
  id: string;
  receivedAt: string;
  receiver: string;
  status: DeliveryStatus;
  groupKey: string;
  /** Set on a resent notification: the id it copies. */
  resentFrom?: string;
  alerts: AlertSummary[];
  channels: ChannelDelivery[];
  hasChart: boolean;
  attempts?: Attempt[];
}

/** GET deliveries. */
export interface DeliveryList {
  deliveries: Delivery[];
}

/** POST deliveries/{id}/resend. */
export interface ResendAnswer {
  ok: boolean;
  id: string;
}
