import type { CheckStatus, HealthCheck } from '../api/types';
import { hasMessage, Lang, MessageKey, t, uiLang } from './i18n';
import healthCodes from '../health-codes.json';

/**
 * What the backend reports (src/health-codes.json, generated from the Go
 * code by the backend's tests): every status, check name and health code
 * with the args its message uses and its texts in English (text) and Chinese
 * (zh), which come from the backend's one catalogue of words (pkg/i18n), so a
 * code's words live in one place. The page's dictionary has
 * health.name.<name> and health.check.<status> in every language (tested).
 */
export const HEALTH_CODES: Record<string, readonly string[]> = Object.fromEntries(
  healthCodes.codes.map((c) => [c.code, c.args])
);

/** The English and Chinese text of every code, with {arg} placeholders. */
export const HEALTH_TEXTS: Record<string, Record<Lang, string>> = Object.fromEntries(
  healthCodes.codes.map((c) => [c.code, { en: c.text, zh: c.zh }])
);

/** The {placeholders} of a text. */
export const placeholders = (s: string): string[] => (s.match(/\{([a-z]+)\}/gi) ?? []).map((p) => p.slice(1, -1));

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
  const texts = c.code ? HEALTH_TEXTS[c.code] : undefined;
  if (texts) {
    const vars = Object.fromEntries(Object.entries(c.args ?? {}).map(([k, v]) => [k, argWord(k, String(v), lang)]));
    let text = texts[lang] || texts.en;
    if (placeholders(text).every((n) => n in vars)) {
      for (const [k, v] of Object.entries(vars)) {
        text = text.split(`{${k}}`).join(v);
      }
      return { text, translated: true };
    }
  }
  return { text: c.message, translated: false };
}
