import { Draft, draftJson, secretIsSet } from './draft';
import { formatDuration, parseDuration } from './duration';
import { CHANNEL_TYPES, DEFAULTS, DurationValue, JsonData } from './model';

/**
 * One problem at a field path, named exactly as pkg/settings.Validate names it
 * ("chart.width", "channels[1].name", "secureJsonData.postgresDsn"), so the
 * page, the backend's health check and the logs all point at the same field.
 */
export interface FieldIssue {
  path: string;
  /** Message id in the i18n dictionary ("v." prefix). */
  code: ValidationCode;
  vars?: Record<string, string | number>;
}

export type ValidationCode =
  | 'v.renderer'
  | 'v.theme'
  | 'v.language'
  | 'v.timezone'
  | 'v.positive'
  | 'v.minWindow'
  | 'v.width'
  | 'v.height'
  | 'v.pixelRatio'
  | 'v.maxSeries'
  | 'v.grafanaTemplate'
  | 'v.httpUrl'
  | 'v.required'
  | 'v.nameTwice'
  | 'v.nameChars'
  | 'v.channelType'
  | 'v.zhOrEn'
  | 'v.notNegative'
  | 'v.needChannel'
  | 'v.noSuchChannel'
  | 'v.queue'
  | 'v.sync'
  | 'v.postgresDsn'
  | 'v.presign'
  | 'v.bucket'
  | 'v.maxBody'
  | 'v.duration'
  | 'v.scrapeInterval'
  | 'v.httpUrlFull'
  | 'v.login';

/** Whether an IANA zone name is one the browser (and Go's tzdata) knows. */
export function validTimezone(tz: string): boolean {
  if (tz === 'UTC' || tz === 'Local') {
    return true;
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** An http(s) URL with a host, as settings.Validate wants alertmanager.url (Go: url.Parse, scheme, Host). */
export function isHttpUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return (p.protocol === 'http:' || p.protocol === 'https:') && p.host !== '';
  } catch {
    return false;
  }
}

/** Validates the draft with the backend's rules, after applying the backend's defaults. */
export function validateDraft(d: Draft): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const add = (path: string, code: ValidationCode, vars?: FieldIssue['vars']) => issues.push({ path, code, vars });
  const j: JsonData = draftJson(d);

  // Durations that do not parse would make settings.Parse fail as a whole.
  const dur = (path: string, v: DurationValue | undefined, def: string): number => {
    const p = parseDuration(v);
    if (!p.ok) {
      add(path, 'v.duration', { value: String(v) });
      return parseDuration(def).ok ? (parseDuration(def) as { ms: number }).ms : 0;
    }
    return p.ms === 0 ? (parseDuration(def) as { ms: number }).ms : p.ms;
  };

  const c = j.chart ?? {};
  const renderer = c.renderer || DEFAULTS.renderer;
  if (!['auto', 'native', 'grafana'].includes(renderer)) {
    add('chart.renderer', 'v.renderer', { value: renderer });
  }
  const theme = c.theme || DEFAULTS.theme;
  if (theme !== 'dark' && theme !== 'light') {
    add('chart.theme', 'v.theme', { value: theme });
  }
  const language = c.language || DEFAULTS.language;
  if (language !== 'zh' && language !== 'en') {
    add('chart.language', 'v.language', { value: language });
  }
  const tz = c.timezone || DEFAULTS.timezone;
  if (!validTimezone(tz)) {
    add('chart.timezone', 'v.timezone', { value: tz });
  }
  if ((c.windowMultiplier ?? 0) < 0) {
    add('chart.windowMultiplier', 'v.positive');
  }
  const minW = dur('chart.minWindow', c.minWindow, DEFAULTS.minWindow);
  const maxW = dur('chart.maxWindow', c.maxWindow, DEFAULTS.maxWindow);
  if (minW > maxW) {
    add('chart.minWindow', 'v.minWindow', { min: formatDuration(minW), max: formatDuration(maxW) });
  }
  dur('chart.budget', c.budget, DEFAULTS.budget);
  const width = c.width || DEFAULTS.width;
  if (width < 200 || width > 4000) {
    add('chart.width', 'v.width', { value: width });
  }
  const height = c.height || DEFAULTS.height;
  if (height < 150 || height > 3000) {
    add('chart.height', 'v.height', { value: height });
  }
  const ratio = c.pixelRatio || DEFAULTS.pixelRatio;
  if (ratio < 0.5 || ratio > 4) {
    add('chart.pixelRatio', 'v.pixelRatio');
  }
  const maxSeries = c.maxSeries || DEFAULTS.maxSeries;
  if (maxSeries < 1 || maxSeries > 100) {
    add('chart.maxSeries', 'v.maxSeries', { value: maxSeries });
  }
  if (renderer === 'grafana' && (!c.templateDashboardUid || !c.templatePanelId)) {
    add('chart.templateDashboardUid', 'v.grafanaTemplate');
  }

  const p = j.prometheus ?? {};
  if (p.url && !p.url.startsWith('http://') && !p.url.startsWith('https://')) {
    add('prometheus.url', 'v.httpUrl');
  }
  const am = j.alertmanager?.url;
  if (am && !isHttpUrl(am)) {
    add('alertmanager.url', 'v.httpUrlFull');
  }
  dur('prometheus.timeout', p.timeout, DEFAULTS.timeout);
  dur('prometheus.rulesCacheTtl', p.rulesCacheTtl, DEFAULTS.rulesCacheTtl);
  // Unset (0) means no floor under the chart step.
  const scrape = dur('prometheus.scrapeInterval', p.scrapeInterval, '0s');
  if (scrape !== 0 && (scrape < 1000 || scrape > 3_600_000)) {
    add('prometheus.scrapeInterval', 'v.scrapeInterval');
  }

  const names = new Set<string>();
  (j.channels ?? []).forEach((ch, i) => {
    const path = `channels[${i}]`;
    if (!ch.name) {
      add(`${path}.name`, 'v.required');
    } else if (names.has(ch.name)) {
      add(`${path}.name`, 'v.nameTwice', { value: ch.name });
    } else if (/[/ .]/.test(ch.name)) {
      add(`${path}.name`, 'v.nameChars', { value: ch.name });
    }
    names.add(ch.name);
    if (!(CHANNEL_TYPES as readonly string[]).includes(ch.type)) {
      add(`${path}.type`, 'v.channelType', { types: CHANNEL_TYPES.join(', '), value: ch.type });
    }
    if (ch.language && ch.language !== 'zh' && ch.language !== 'en') {
      add(`${path}.language`, 'v.zhOrEn');
    }
    if ((ch.rateLimitPerMinute ?? 0) < 0) {
      add(`${path}.rateLimitPerMinute`, 'v.notNegative');
    }
  });

  (j.routes ?? []).forEach((r, i) => {
    const path = `routes[${i}]`;
    if (!r.receiver) {
      add(`${path}.receiver`, 'v.required');
    }
    if (r.channels.length === 0) {
      add(`${path}.channels`, 'v.needChannel');
    }
    r.channels.forEach((name, k) => {
      if (!names.has(name)) {
        add(`${path}.channels[${k}]`, 'v.noSuchChannel', { value: name });
      }
    });
  });

  const del = j.delivery ?? {};
  const queue = del.queue || DEFAULTS.queue;
  if (queue !== 'sqlite' && queue !== 'postgres') {
    add('delivery.queue', 'v.queue', { value: queue });
  }
  const sync = del.sync || DEFAULTS.sync;
  if (sync !== 'normal' && sync !== 'full') {
    add('delivery.sync', 'v.sync', { value: sync });
  }
  if (queue === 'postgres' && !secretIsSet(d.secrets.postgresDsn)) {
    add('secureJsonData.postgresDsn', 'v.postgresDsn');
  }
  dur('delivery.dedupeWindow', del.dedupeWindow, DEFAULTS.dedupeWindow);
  dur('delivery.retryHorizon', del.retryHorizon, DEFAULTS.retryHorizon);
  dur('delivery.retention', del.retention, DEFAULTS.retention);

  const img = j.imageStore ?? {};
  const presign = dur('imageStore.presignExpiry', img.presignExpiry, DEFAULTS.presignExpiry);
  if (presign > 7 * 24 * 3_600_000) {
    add('imageStore.presignExpiry', 'v.presign');
  }
  if (img.endpoint && !img.bucket) {
    add('imageStore.bucket', 'v.bucket');
  }

  const maxBody = j.webhook?.maxBodyBytes || DEFAULTS.maxBodyBytes;
  if (maxBody < 1024) {
    add('webhook.maxBodyBytes', 'v.maxBody');
  }
  (j.webhook?.allowedUsers ?? []).forEach((u, i) => {
    if (u.trim() === '' || u.trim() !== u) {
      add(`webhook.allowedUsers[${i}]`, 'v.login');
    }
  });
  return issues;
}
