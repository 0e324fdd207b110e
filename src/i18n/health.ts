import type { CheckStatus, HealthCheck } from '../api/types';
import { hasMessage, Lang, MessageKey, t, uiLang } from './i18n';
import { en } from './en';
import healthCodes from '../health-codes.json';

/**
 * What the backend reports (src/health-codes.json, generated from the Go
 * code by the backend's tests): every status, check name and health code
 * with the args its message uses. The dictionary has health.code.<code>,
 * health.name.<name> and health.check.<status> in every language (tested).
 */
export const HEALTH_CODES: Record<string, readonly string[]> = Object.fromEntries(
  healthCodes.codes.map((c) => [c.code, c.args])
);

/** Check names the backend uses ("channel {channel}" carries the channel's name). */
export const HEALTH_NAMES: readonly string[] = healthCodes.names;

/** Statuses a check can have. */
export const HEALTH_STATUSES: readonly string[] = healthCodes.statuses;

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

/** Whether the dictionary has a name for the check (a known id, or "channel <name>"). */
export function checkNameKnown(c: Pick<HealthCheck, 'name'>): boolean {
  return hasMessage(nameKey(c.name)) || /^channel\s+(.+)$/i.test(c.name.trim());
}

/** A check's status word ("skipped" → 已跳过), or the status as sent when unknown. */
export function statusWord(status: CheckStatus | string, lang: Lang = uiLang()): string {
  const key = `health.check.${status}`;
  return hasMessage(key) ? t(key, undefined, lang) : status;
}

/**
 * Arg values that are words rather than data (Go: grafana.Source*), by the
 * dictionary id that says them in every language.
 */
const ARG_WORDS: Record<string, Record<string, MessageKey>> = {
  source: {
    'managed service account': 'health.arg.source.managed',
    'service account token from secureJsonData.grafanaToken': 'health.arg.source.token',
  },
};

function argWord(arg: string, value: string, lang: Lang): string {
  const key = ARG_WORDS[arg]?.[value];
  return key ? t(key, undefined, lang) : value;
}

/**
 * A check's text in the user's language: the translation of its code filled
 * from its args; the backend's English message when the code is unknown or an
 * arg the translation needs is missing.
 */
export function checkText(c: HealthCheck, lang: Lang = uiLang()): { text: string; translated: boolean } {
  const key = c.code ? `health.code.${c.code}` : '';
  if (key && hasMessage(key)) {
    const vars = Object.fromEntries(Object.entries(c.args ?? {}).map(([k, v]) => [k, argWord(k, String(v), lang)]));
    const needed = [...(en[key as MessageKey].match(/\{([a-z]+)\}/gi) ?? [])].map((p) => p.slice(1, -1));
    if (needed.every((n) => n in vars)) {
      return { text: t(key, vars, lang), translated: true };
    }
  }
  return { text: c.message, translated: false };
}
