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

/** GET recent: one item of `alerts`. */
export interface RecentAlert {
  receiver: string;
  receivedAt: string;
  alert: AmAlert;
}

/** A Go duration as JSON (settings.Duration): "10m0s", or seconds. */
export type GoDuration = string | number;

/** The fields of a chart plan the pages show (Go: chartplan.Plan). */
export interface Plan {
  alert?: { name?: string; status?: string; fingerprint?: string; labels?: Record<string, string>; startsAt?: string };
  rule?: { name?: string; group?: string; expr?: string; for?: GoDuration };
  source?: string;
  expr?: string;
  query?: string;
  conditions?: string[];
  injectedLabels?: Record<string, string>;
  postFilterLabels?: Record<string, string>;
  /** The range actually drawn; it may be longer than `window` (see rangeReason). */
  start?: string;
  end?: string;
  step?: GoDuration;
  /** The span the rule's `for` asked for. */
  window?: GoDuration;
  /** Why start–end is not the last `window` (e.g. widened to include an old startsAt). */
  rangeReason?: string;
  title?: string;
  unit?: string;
  noDataNote?: string;
  overrides?: string[];
  fallbacks?: string[];
  noChartReason?: string;
}

/** POST explain. */
export interface ExplainAnswer {
  plans: Plan[];
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

/** One accepted webhook notification (Go: delivery.Delivery). */
export interface Delivery {
  id: string;
  receivedAt: string;
  receiver: string;
  status: DeliveryStatus;
  groupKey: string;
  /** Set on a resent notification: the id it copies. */
  resentFrom?: string;
  alerts: Array<{ fingerprint: string; alertname: string; status: string; instance?: string; severity?: string }>;
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
