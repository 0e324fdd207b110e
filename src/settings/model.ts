/**
 * TypeScript mirror of pkg/settings (the one settings model). Field names are
 * the Go JSON tags; every field is optional here because the Go side omits
 * zero values and fills defaults itself.
 */

/** A Go duration string such as "10m" or "1h30m" (plain numbers are seconds). */
export type DurationValue = string | number;

export interface PrometheusSettings {
  url?: string;
  datasourceUid?: string;
  rulesUrl?: string;
  basicAuthUser?: string;
  headers?: Record<string, string>;
  tlsSkipVerify?: boolean;
  timeout?: DurationValue;
  rulesCacheTtl?: DurationValue;
  /** Data resolution; chart steps are never finer (default 15s, 1s–1h). */
  scrapeInterval?: DurationValue;
  externalLabels?: string[];
}

export interface GrafanaSettings {
  url?: string;
  orgId?: number;
}

/** Where users open Alertmanager (Go: settings.AlertmanagerSettings). */
export interface AlertmanagerSettings {
  /** Base of the "Silence" links in messages (http/https); set, the payload's externalURL is not used for links. */
  url?: string;
}

export interface ChartSettings {
  renderer?: string;
  windowMultiplier?: number;
  minWindow?: DurationValue;
  maxWindow?: DurationValue;
  width?: number;
  height?: number;
  pixelRatio?: number;
  theme?: string;
  timezone?: string;
  language?: string;
  maxSeries?: number;
  legendFormat?: string;
  budget?: DurationValue;
  templateDashboardUid?: string;
  templatePanelId?: number;
  tempFolderUid?: string;
  maxGrafanaRenders?: number;
}

export interface Channel {
  name: string;
  type: string;
  language?: string;
  template?: string;
  mentionUsers?: string[];
  mentionMobiles?: string[];
  mentionAll?: boolean;
  mentionLabel?: string;
  slackChannel?: string;
  chatId?: string;
  feishuAppId?: string;
  lark?: boolean;
  imageBase64?: boolean;
  dir?: string;
  disableChart?: boolean;
  rateLimitPerMinute?: number;
  apiUrl?: string;
  /** DingTalk/Feishu "custom keyword" security word, appended when a message lacks it. */
  keyword?: string;
}

export interface Route {
  receiver: string;
  channels: string[];
  match?: Record<string, string>;
}

export interface ImageStoreSettings {
  endpoint?: string;
  bucket?: string;
  region?: string;
  prefix?: string;
  insecure?: boolean;
  pathStyle?: boolean;
  presignExpiry?: DurationValue;
  publicUrlPrefix?: string;
}

export interface DeliverySettings {
  dataDir?: string;
  queue?: string;
  dedupeWindow?: DurationValue;
  retryHorizon?: DurationValue;
  retention?: DurationValue;
  sync?: string;
}

export interface WebhookSettings {
  maxBodyBytes?: number;
  /** Grafana logins that may POST the webhook: Alertmanager's service account, e.g. sa-1-alertmanager. */
  allowedUsers?: string[];
}

/** The plugin's jsonData (Go: settings.Settings). */
export interface JsonData {
  prometheus?: PrometheusSettings;
  grafana?: GrafanaSettings;
  alertmanager?: AlertmanagerSettings;
  chart?: ChartSettings;
  channels?: Channel[];
  routes?: Route[];
  imageStore?: ImageStoreSettings;
  delivery?: DeliverySettings;
  webhook?: WebhookSettings;
}

/** Top-level secureJsonData keys (Go: settings.Secret* constants). */
export const SECRET_KEYS = {
  prometheusPassword: 'prometheusPassword',
  prometheusToken: 'prometheusToken',
  grafanaToken: 'grafanaToken',
  imageStoreAccessKey: 'imageStoreAccessKey',
  imageStoreSecretKey: 'imageStoreSecretKey',
  postgresDsn: 'postgresDsn',
  webhookToken: 'webhookToken',
} as const;

export type TopSecretKey = keyof typeof SECRET_KEYS;

/** Prefix of secret Prometheus request headers in secureJsonData. */
export const PROMETHEUS_HEADER_PREFIX = 'prometheusHeader.';

/** A channel's secret fields, stored as "channels.<name>.<field>". */
export type ChannelSecretField = 'url' | 'secret' | 'token' | 'appSecret';

/** secureJsonData key of a channel secret (Go: settings.ChannelSecretKey). */
export function channelSecretKey(channel: string, field: ChannelSecretField): string {
  return `channels.${channel}.${field}`;
}

export const CHANNEL_TYPES = [
  'wecom',
  'dingtalk',
  'feishu',
  'teams',
  'slack',
  'telegram',
  'discord',
  'webhook',
  'inbox',
] as const;

export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Non-secret, type-specific Channel fields a form shows. */
export type ChannelOptionField =
  | 'mentionUsers'
  | 'mentionMobiles'
  | 'mentionAll'
  | 'mentionLabel'
  | 'slackChannel'
  | 'chatId'
  | 'feishuAppId'
  | 'lark'
  | 'imageBase64'
  | 'dir'
  | 'keyword';

export interface ChannelSpec {
  /** Secret fields this type uses; `required` ones are needed to send anything. */
  secrets: Array<{ field: ChannelSecretField; required: boolean }>;
  /** Type-specific jsonData fields. */
  options: ChannelOptionField[];
}

/**
 * What each channel type needs: the Go platforms' Specs, which the registry
 * writes to pkg/channels/registry/channel-specs.json (channelSpecs.test.ts
 * fails when this drifts from it); per-platform set-up in docs/channels.md.
 */
export const CHANNEL_SPECS: Record<ChannelType, ChannelSpec> = {
  // Robot webhook URL carries the key; no signing. Mentions by user id or mobile.
  wecom: {
    secrets: [{ field: 'url', required: true }],
    options: ['mentionUsers', 'mentionMobiles', 'mentionAll', 'mentionLabel'],
  },
  // Webhook URL with access_token; optional "SEC..." signing secret.
  dingtalk: {
    secrets: [
      { field: 'url', required: true },
      { field: 'secret', required: false },
    ],
    options: ['keyword', 'mentionUsers', 'mentionMobiles', 'mentionAll', 'mentionLabel'],
  },
  // Bot webhook URL, optional signing secret; charts need an app (app id + app secret).
  feishu: {
    secrets: [
      { field: 'url', required: true },
      { field: 'secret', required: false },
      { field: 'appSecret', required: false },
    ],
    options: ['keyword', 'feishuAppId', 'lark', 'mentionUsers', 'mentionAll', 'mentionLabel'],
  },
  // Workflows webhook URL (the whole URL is the secret).
  teams: { secrets: [{ field: 'url', required: true }], options: [] },
  // Incoming webhook URL, or a bot token + channel id for uploading the PNG.
  slack: {
    secrets: [
      { field: 'url', required: false },
      { field: 'token', required: false },
    ],
    options: ['slackChannel', 'mentionUsers', 'mentionAll', 'mentionLabel'],
  },
  // Bot token + chat id.
  telegram: { secrets: [{ field: 'token', required: true }], options: ['chatId'] },
  // Webhook URL; mentions by numeric user id.
  discord: { secrets: [{ field: 'url', required: true }], options: ['mentionUsers', 'mentionLabel'] },
  // Generic JSON re-forward; optional bearer token and HMAC signing secret.
  webhook: {
    secrets: [
      { field: 'url', required: true },
      { field: 'token', required: false },
      { field: 'secret', required: false },
    ],
    options: ['imageBase64'],
  },
  // Writes messages and charts into a folder (testing, audits).
  inbox: { secrets: [], options: ['dir'] },
};

export function isChannelType(v: string): v is ChannelType {
  return (CHANNEL_TYPES as readonly string[]).includes(v);
}

/** Defaults applied by settings.ApplyDefaults, shown as placeholders. */
export const DEFAULTS = {
  renderer: 'auto',
  windowMultiplier: 2,
  minWindow: '10m',
  maxWindow: '24h',
  width: 1000,
  height: 500,
  pixelRatio: 1,
  theme: 'dark',
  timezone: 'UTC',
  language: 'zh',
  maxSeries: 10,
  budget: '5s',
  tempFolderUid: 'alertchart-tmp',
  maxGrafanaRenders: 2,
  timeout: '10s',
  rulesCacheTtl: '30s',
  orgId: 1,
  queue: 'sqlite',
  dedupeWindow: '10m',
  retryHorizon: '1h',
  retention: '168h',
  sync: 'normal',
  presignExpiry: '24h',
  maxBodyBytes: 4 << 20,
} as const;

/** Compile-time check that a field list names every key of T and nothing else. */
type Exactly<T, L extends readonly string[]> = [Exclude<keyof T, L[number]>] extends [never] ? L : never;
function fieldList<T>() {
  return <const L extends ReadonlyArray<keyof T & string>>(l: Exactly<T, L>) => l;
}

/**
 * The JSON field names of each settings struct, checked against the
 * interfaces above by the compiler and against pkg/settings/settings.go's
 * json tags by settings/model.test.ts, so the page cannot drift from the Go model.
 */
export const JSON_FIELDS = {
  Settings: fieldList<JsonData>()([
    'prometheus',
    'grafana',
    'alertmanager',
    'chart',
    'channels',
    'routes',
    'imageStore',
    'delivery',
    'webhook',
  ]),
  PrometheusSettings: fieldList<PrometheusSettings>()([
    'url',
    'datasourceUid',
    'rulesUrl',
    'basicAuthUser',
    'headers',
    'tlsSkipVerify',
    'timeout',
    'rulesCacheTtl',
    'scrapeInterval',
    'externalLabels',
  ]),
  GrafanaSettings: fieldList<GrafanaSettings>()(['url', 'orgId']),
  AlertmanagerSettings: fieldList<AlertmanagerSettings>()(['url']),
  ChartSettings: fieldList<ChartSettings>()([
    'renderer',
    'windowMultiplier',
    'minWindow',
    'maxWindow',
    'width',
    'height',
    'pixelRatio',
    'theme',
    'timezone',
    'language',
    'maxSeries',
    'legendFormat',
    'budget',
    'templateDashboardUid',
    'templatePanelId',
    'tempFolderUid',
    'maxGrafanaRenders',
  ]),
  Channel: fieldList<Channel>()([
    'name',
    'type',
    'language',
    'template',
    'mentionUsers',
    'mentionMobiles',
    'mentionAll',
    'mentionLabel',
    'slackChannel',
    'chatId',
    'feishuAppId',
    'lark',
    'imageBase64',
    'dir',
    'disableChart',
    'rateLimitPerMinute',
    'apiUrl',
    'keyword',
  ]),
  Route: fieldList<Route>()(['receiver', 'channels', 'match']),
  ImageStoreSettings: fieldList<ImageStoreSettings>()([
    'endpoint',
    'bucket',
    'region',
    'prefix',
    'insecure',
    'pathStyle',
    'presignExpiry',
    'publicUrlPrefix',
  ]),
  DeliverySettings: fieldList<DeliverySettings>()([
    'dataDir',
    'queue',
    'dedupeWindow',
    'retryHorizon',
    'retention',
    'sync',
  ]),
  WebhookSettings: fieldList<WebhookSettings>()(['maxBodyBytes', 'allowedUsers']),
};
