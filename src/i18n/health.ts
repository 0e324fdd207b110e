import type { CheckStatus, HealthCheck } from '../api/types';
import { hasMessage, Lang, MessageKey, t, uiLang } from './i18n';
import { en } from './en';

/**
 * Every health code the backend reports today (pkg/plugin/app.go,
 * pkg/pipeline/health.go, pkg/grafana/health.go), `<check>.<state>`, with the
 * args its message uses. The backend sends these in a check's "code" and
 * "args"; the dictionary has health.code.<code> in every language (tested).
 */
export const HEALTH_CODES: Record<string, readonly string[]> = {
  'settings.valid': [],
  'settings.invalid': ['error'],
  'queue.ok': ['queue'],
  'queue.failed': ['error'],
  'queue.temporary': [],
  'channels.none': [],
  'channels.ok': ['count'],
  'channel.invalid': ['channel', 'error'],
  'prometheus.ok': [],
  'prometheus.unconfigured': ['error'],
  'prometheus.unreachable': ['error'],
  'imagestore.ok': [],
  'imagestore.invalid': ['error'],
  'imagestore.unreachable': ['error'],
  'grafana.unusable': ['error'],
  'grafana.no_template': [],
  'grafana.api_ok_managed': ['url'],
  'grafana.api_ok_token': ['url'],
  'grafana.api_failed': ['url', 'error'],
  'grafana.template_unset': [],
  'grafana.template_skipped': [],
  'grafana.template_failed': ['error'],
  'grafana.template_ok': ['panel', 'title', 'type', 'dashboard', 'schema'],
  'grafana.renderer_native': [],
  'grafana.renderer_skipped': [],
  'grafana.renderer_failed': ['error'],
  'grafana.no_renderer': [],
  'grafana.renderer_available': ['version'],
  'grafana.renderer_ok': ['version', 'duration'],
};

/** Check names the backend uses today ("name"), by their dictionary id health.name.<id>. */
export const HEALTH_NAMES = [
  'settings',
  'channels',
  'prometheus',
  'image store',
  'grafana',
  'Grafana API',
  'Template panel',
  'Image renderer',
  'queue',
] as const;

const nameKey = (name: string) => `health.name.${name.trim().toLowerCase().replace(/\s+/g, '_')}`;

/** A check's name in the user's language: a known id translated, "channel <name>" with its channel, else as sent. */
export function checkName(c: Pick<HealthCheck, 'name' | 'args'>, lang: Lang = uiLang()): string {
  const key = nameKey(c.name);
  if (hasMessage(key)) {
    return t(key, undefined, lang);
  }
  const ch = /^channel\s+(.+)$/i.exec(c.name.trim());
  if (ch) {
    return t('health.name.channel', { channel: ch[1] }, lang);
  }
  return c.name;
}

/** A check's status word ("skipped" → 已跳过), or the status as sent when unknown. */
export function statusWord(status: CheckStatus | string, lang: Lang = uiLang()): string {
  const key = `health.check.${status}`;
  return hasMessage(key) ? t(key, undefined, lang) : status;
}

/**
 * A check's text in the user's language: the translation of its code filled
 * from its args; the backend's English message when the code is unknown or an
 * arg the translation needs is missing.
 */
export function checkText(c: HealthCheck, lang: Lang = uiLang()): { text: string; translated: boolean } {
  const key = c.code ? `health.code.${c.code}` : '';
  if (key && hasMessage(key)) {
    const vars = Object.fromEntries(Object.entries(c.args ?? {}).map(([k, v]) => [k, String(v)]));
    const needed = [...(en[key as MessageKey].match(/\{([a-z]+)\}/gi) ?? [])].map((p) => p.slice(1, -1));
    if (needed.every((n) => n in vars)) {
      return { text: t(key, vars, lang), translated: true };
    }
  }
  return { text: c.message, translated: false };
}
