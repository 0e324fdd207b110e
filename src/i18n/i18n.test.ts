import { en } from './en';
import { zh } from './zh';
import { hasMessage, langFor, t, uiLang } from './i18n';
import { CHANNEL_SPECS, CHANNEL_TYPES } from '../settings/model';
import { setLanguage } from '../test/runtime';

test.each([
  ['zh-Hans', 'zh'],
  ['zh-CN', 'zh'],
  ['zh', 'zh'],
  ['en-US', 'en'],
  ['de-DE', 'en'],
  ['zh-Hant', 'en'],
  ['', 'en'],
])('Grafana language %p → %p', (tag, lang) => {
  expect(langFor(tag)).toBe(lang);
});

test('the UI language follows Grafana’s config', () => {
  setLanguage('zh-Hans');
  expect(uiLang()).toBe('zh');
  expect(t('config.save')).toBe('保存设置');
  setLanguage('en-US');
  expect(t('config.save')).toBe('Save settings');
});

test('every message has a Chinese translation with the same placeholders', () => {
  for (const key of Object.keys(en) as Array<keyof typeof en>) {
    expect(zh[key]).toBeTruthy();
    const ph = (s: string) => (s.match(/\{[a-z]+\}/gi) ?? []).sort();
    expect([key, ph(zh[key])]).toEqual([key, ph(en[key])]);
  }
});

test('placeholders are filled', () => {
  expect(t('v.width', { value: 50 }, 'en')).toBe('must be between 200 and 4000, not 50');
  expect(t('deliveries.resent', { id: 'X' }, 'zh')).toBe('新通知 X。');
});

test('every channel type has its name, secret help and mention help', () => {
  for (const type of CHANNEL_TYPES) {
    expect(hasMessage(`type.${type}`)).toBe(true);
    for (const s of CHANNEL_SPECS[type].secrets) {
      expect([type, s.field, hasMessage(`channel.secret.${s.field}.${type}`)]).toEqual([type, s.field, true]);
    }
    if (CHANNEL_SPECS[type].options.includes('mentionUsers')) {
      expect(hasMessage(`channel.mentionUsers.${type}`)).toBe(true);
    }
  }
});

test('an unknown id comes back as is instead of breaking the page', () => {
  expect(t('status.exploded' as never)).toBe('status.exploded');
});
