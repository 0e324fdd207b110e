import {
  CHANNEL_SPECS,
  Channel,
  ChannelSecretField,
  JsonData,
  PROMETHEUS_HEADER_PREFIX,
  Route,
  SECRET_KEYS,
  TopSecretKey,
  channelSecretKey,
  isChannelType,
} from './model';

/**
 * The config page's editable copy of the plugin settings. Grafana never returns
 * secret values, only which keys are set (secureJsonFields), so each secret is
 * tracked as "configured" (kept as is on save) plus a newly typed value.
 */
export interface SecretState {
  /** A value is stored in Grafana and the user has not reset it. */
  configured: boolean;
  /** A new value typed by the user ('' = none). */
  value: string;
}

export interface ChannelDraft {
  /** Stable React key; channel names change while typing. */
  key: string;
  /** Name the channel was saved under (null for a new channel). */
  originalName: string | null;
  data: Channel;
  secrets: Partial<Record<ChannelSecretField, SecretState>>;
}

export interface MatchDraft {
  key: string;
  name: string;
  value: string;
}

export interface RouteDraft {
  key: string;
  receiver: string;
  /**
   * Channel references: a ChannelDraft key, so renaming a channel keeps its
   * routes, or "?<name>" for a name no channel has (shown so it can be fixed).
   */
  channels: string[];
  match: MatchDraft[];
}

export interface HeaderDraft {
  key: string;
  name: string;
  value: string;
  /** Sent as secureJsonData "prometheusHeader.<name>" instead of jsonData. */
  secret: boolean;
  /** A secret header stored in Grafana under originalName. */
  configured: boolean;
  originalName: string | null;
}

export interface Draft {
  /** All jsonData as loaded, including fields this page does not edit (kept on save). */
  json: JsonData;
  channels: ChannelDraft[];
  routes: RouteDraft[];
  headers: HeaderDraft[];
  secrets: Record<TopSecretKey, SecretState>;
  /** secureJsonFields as loaded. */
  secureFields: Record<string, boolean>;
}

let nextKey = 0;
/** A fresh key for list items. */
export function newKey(prefix: string): string {
  nextKey += 1;
  return `${prefix}-${nextKey}`;
}

function configured(fields: Record<string, boolean>, key: string): SecretState {
  return { configured: Boolean(fields[key]), value: '' };
}

/** Builds the draft from the plugin meta Grafana gives the config page. */
export function draftFromMeta(jsonData: unknown, secureJsonFields: Record<string, boolean> | undefined): Draft {
  const json: JsonData =
    jsonData && typeof jsonData === 'object' ? (JSON.parse(JSON.stringify(jsonData)) as JsonData) : {};
  const fields = secureJsonFields ?? {};

  const channels: ChannelDraft[] = (json.channels ?? []).map((c) => {
    const secrets: ChannelDraft['secrets'] = {};
    for (const f of ['url', 'secret', 'token', 'appSecret'] as ChannelSecretField[]) {
      secrets[f] = configured(fields, channelSecretKey(c.name, f));
    }
    return { key: newKey('ch'), originalName: c.name, data: { ...c }, secrets };
  });

  const routes: RouteDraft[] = (json.routes ?? []).map((r) => ({
    key: newKey('rt'),
    receiver: r.receiver ?? '',
    channels: (r.channels ?? []).map((name) => channels.find((c) => c.data.name === name)?.key ?? `?${name}`),
    match: Object.entries(r.match ?? {}).map(([name, value]) => ({ key: newKey('m'), name, value })),
  }));

  const headers: HeaderDraft[] = Object.entries(json.prometheus?.headers ?? {}).map(([name, value]) => ({
    key: newKey('h'),
    name,
    value,
    secret: false,
    configured: false,
    originalName: name,
  }));
  for (const k of Object.keys(fields)) {
    if (fields[k] && k.startsWith(PROMETHEUS_HEADER_PREFIX)) {
      const name = k.slice(PROMETHEUS_HEADER_PREFIX.length);
      headers.push({ key: newKey('h'), name, value: '', secret: true, configured: true, originalName: name });
    }
  }

  const secrets = {} as Record<TopSecretKey, SecretState>;
  for (const k of Object.keys(SECRET_KEYS) as TopSecretKey[]) {
    secrets[k] = configured(fields, SECRET_KEYS[k]);
  }

  return { json, channels, routes, headers, secrets, secureFields: { ...fields } };
}

/** Whether a secret will have a value after saving. */
export function secretIsSet(s: SecretState | undefined): boolean {
  return Boolean(s && (s.configured || s.value !== ''));
}

/**
 * Removes what Go's omitempty would omit (undefined, null, '', empty arrays
 * and objects) so that the backend's defaults apply. false and 0 are dropped
 * too: every bool and number in the model is omitempty with a zero default.
 */
export function prune(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(prune).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = prune(x);
      if (p !== undefined) {
        out[k] = p;
      }
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === undefined || v === null || v === '' || v === false || v === 0) {
    return undefined;
  }
  if (typeof v === 'number' && Number.isNaN(v)) {
    return undefined;
  }
  return v;
}

export interface SavePayload {
  jsonData: JsonData;
  /** Only changed secrets: new values, and '' for secrets that were reset or whose channel/header is gone. */
  secureJsonData: Record<string, string>;
}

/** The channel name a route reference stands for. */
export function channelRefName(d: Draft, ref: string): string {
  if (ref.startsWith('?')) {
    return ref.slice(1);
  }
  return d.channels.find((c) => c.key === ref)?.data.name.trim() ?? '';
}

/** Removes a channel; routes keep its name as a dangling reference so validation shows what to fix. */
export function removeChannel(d: Draft, key: string): Draft {
  const gone = d.channels.find((c) => c.key === key);
  return {
    ...d,
    channels: d.channels.filter((c) => c.key !== key),
    routes: d.routes.map((r) => ({
      ...r,
      channels: r.channels.map((ref) => (ref === key ? `?${gone?.data.name ?? ''}` : ref)),
    })),
  };
}

/** The jsonData this draft stands for (before pruning). */
export function draftJson(d: Draft): JsonData {
  const plainHeaders: Record<string, string> = {};
  for (const h of d.headers) {
    if (!h.secret && h.name.trim() !== '') {
      plainHeaders[h.name.trim()] = h.value;
    }
  }
  const routes: Route[] = d.routes.map((r) => {
    const match: Record<string, string> = {};
    for (const m of r.match) {
      if (m.name.trim() !== '') {
        match[m.name.trim()] = m.value;
      }
    }
    const route: Route = { receiver: r.receiver.trim(), channels: r.channels.map((ref) => channelRefName(d, ref)) };
    if (Object.keys(match).length) {
      route.match = match;
    }
    return route;
  });
  return {
    ...d.json,
    prometheus: { ...d.json.prometheus, headers: plainHeaders },
    channels: d.channels.map((c) => ({ ...c.data, name: c.data.name.trim() })),
    routes,
  };
}

/** Computes the exact body parts Grafana's POST /api/plugins/<id>/settings receives. */
export function toPayload(d: Draft): SavePayload {
  const full = draftJson(d);
  const pruned = (prune(full) as JsonData | undefined) ?? {};
  // channels and routes are not omitempty in Go; channel name and type always go out.
  const jsonData: JsonData = {
    ...pruned,
    channels: full.channels!.map((c) => ({ ...(prune(c) as Channel | undefined), name: c.name, type: c.type })),
    routes: full.routes!.map((r) => ({
      ...(prune(r) as Route | undefined),
      receiver: r.receiver,
      channels: r.channels,
    })),
  };

  const secure: Record<string, string> = {};
  const kept = new Set<string>();

  for (const k of Object.keys(SECRET_KEYS) as TopSecretKey[]) {
    const s = d.secrets[k];
    const key = SECRET_KEYS[k];
    if (s.value !== '') {
      secure[key] = s.value;
    } else if (s.configured) {
      kept.add(key);
    }
  }

  for (const c of d.channels) {
    const name = c.data.name.trim();
    const spec = isChannelType(c.data.type) ? CHANNEL_SPECS[c.data.type] : undefined;
    const used = new Set((spec?.secrets ?? []).map((s) => s.field));
    for (const [field, s] of Object.entries(c.secrets) as Array<[ChannelSecretField, SecretState]>) {
      if (!used.has(field) || !name) {
        continue;
      }
      const key = channelSecretKey(name, field);
      if (s.value !== '') {
        secure[key] = s.value;
      } else if (s.configured && c.originalName === name) {
        kept.add(key);
      }
    }
  }

  for (const h of d.headers) {
    const name = h.name.trim();
    if (!h.secret || !name) {
      continue;
    }
    const key = PROMETHEUS_HEADER_PREFIX + name;
    if (h.value !== '') {
      secure[key] = h.value;
    } else if (h.configured && h.originalName === name) {
      kept.add(key);
    }
  }

  // Everything stored before and neither kept nor replaced is cleared, so a
  // removed channel or a reset secret does not linger in Grafana.
  for (const [key, isSet] of Object.entries(d.secureFields)) {
    if (isSet && !kept.has(key) && !(key in secure)) {
      secure[key] = '';
    }
  }

  return { jsonData, secureJsonData: secure };
}
