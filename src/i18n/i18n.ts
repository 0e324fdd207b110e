import { config } from '@grafana/runtime';
import { en } from './en';
import { zh } from './zh';

/**
 * A small dictionary for the app's own text. Grafana's UI language decides:
 * Simplified Chinese (zh-Hans, zh-CN, zh) gets Chinese, everything else English.
 */
export type MessageKey = keyof typeof en;
export type Lang = 'en' | 'zh';

const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, zh };

/** Grafana's resolved UI language, falling back to the user's preference. */
export function grafanaLanguage(): string {
  const c = config as unknown as { language?: string; bootData?: { user?: { language?: string } } };
  return c.language || c.bootData?.user?.language || 'en-US';
}

/** Maps a Grafana language tag to this app's language. */
export function langFor(tag: string): Lang {
  const t = tag.toLowerCase();
  if (t === 'zh' || t === 'zh-hans' || t.startsWith('zh-hans-') || t === 'zh-cn' || t === 'zh-sg') {
    return 'zh';
  }
  return 'en';
}

/** The app's current language. */
export function uiLang(): Lang {
  return langFor(grafanaLanguage());
}

/** Whether a message id exists (for ids built from backend values such as a status). */
export function hasMessage(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/** Translates a message id, filling {name} placeholders; an unknown id is returned as is. */
export function t(key: MessageKey, vars?: Record<string, string | number>, lang: Lang = uiLang()): string {
  let s: string = dictionaries[lang][key] ?? en[key] ?? key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) {
      s = s.split(`{${k}}`).join(String(v));
    }
  }
  return s;
}

/** Translates an id built from a backend value (`plan.source.${source}`), or gives `fallback` when there is none. */
export function tOr(key: string, fallback: string, vars?: Record<string, string | number>): string {
  return hasMessage(key) ? t(key, vars) : fallback;
}
