import { CHECK_STATUSES } from '../api/types';
import { en } from './en';
import { zh } from './zh';
import {
  HEALTH_CODES,
  HEALTH_NAMES,
  HEALTH_STATUSES,
  HEALTH_TEXTS,
  checkName,
  checkText,
  placeholders,
  statusWord,
} from './health';
import { hasMessage } from './i18n';

test('every check status has a word in both languages', () => {
  expect([...CHECK_STATUSES].sort()).toEqual([...HEALTH_STATUSES].sort());
  for (const status of CHECK_STATUSES) {
    const key = `health.check.${status}`;
    expect([key, hasMessage(key)]).toEqual([key, true]);
    expect(zh[key as keyof typeof en]).toBeTruthy();
    expect(statusWord(status, 'zh')).not.toBe(key);
  }
  expect(statusWord('skipped', 'en')).toBe('skipped');
  expect(statusWord('skipped', 'zh')).toBe('已跳过');
});

test('every overall status has a title in both languages', () => {
  for (const status of ['ok', 'warning', 'error']) {
    expect(hasMessage(`health.${status}`)).toBe(true);
  }
});

test('every health code has a text in both languages, using only args the backend sends', () => {
  for (const [code, args] of Object.entries(HEALTH_CODES)) {
    const texts = HEALTH_TEXTS[code];
    expect([code, typeof texts.en, typeof texts.zh]).toEqual([code, 'string', 'string']);
    expect([code, texts.en !== '' && texts.zh !== '']).toEqual([code, true]);
    expect([code, placeholders(texts.en).filter((p) => !args.includes(p))]).toEqual([code, []]);
    expect([code, placeholders(texts.zh).sort()]).toEqual([code, placeholders(texts.en).sort()]);
  }
});

test('codes follow <check>.<state>; the page keeps no copy of their words', () => {
  for (const code of Object.keys(HEALTH_CODES)) {
    expect(code).toMatch(/^[a-z]+\.[a-z_]+$/);
  }
  expect(Object.keys(en).filter((k) => k.startsWith('health.code.'))).toEqual([]);
  expect(Object.keys(zh).filter((k) => k.startsWith('health.code.'))).toEqual([]);
});

test('every check name the backend uses is translated', () => {
  for (const name of HEALTH_NAMES) {
    const key = `health.name.${name
      .replace(/\s*\{\w+\}/g, '')
      .toLowerCase()
      .replace(/\s+/g, '_')}`;
    expect([name, hasMessage(key)]).toEqual([name, true]);
  }
  expect(checkName({ name: 'image store' }, 'zh')).toBe('图片存储');
  expect(checkName({ name: 'channel ops-wecom' }, 'zh')).toBe('渠道 ops-wecom');
  expect(checkName({ name: 'Template panel' }, 'en')).toBe('Template panel');
  expect(checkName({ name: 'something new' }, 'zh')).toBe('something new');
  // pkg/grafana's alert-rule check; its name is not in health-codes.json's list yet.
  expect(checkName({ name: 'Alert rules' }, 'zh')).toBe('告警规则');
});

test('a check’s code is translated with its args; unknown codes and missing args fall back to the message', () => {
  const c = {
    name: 'channels',
    status: 'ok' as const,
    message: '2 channel(s) configured',
    code: 'channels.ok',
    args: { count: 2 },
  };
  expect(checkText(c, 'zh')).toEqual({ text: '已配置 2 个渠道', translated: true });
  expect(checkText(c, 'en')).toEqual({ text: '2 channel(s) configured', translated: true });
  expect(checkText({ ...c, code: 'channels.exploded' }, 'zh')).toEqual({
    text: '2 channel(s) configured',
    translated: false,
  });
  expect(checkText({ ...c, args: {} }, 'zh')).toEqual({ text: '2 channel(s) configured', translated: false });
  expect(checkText({ ...c, code: undefined }, 'zh').translated).toBe(false);
});

test('word args are translated too', () => {
  const c = {
    name: 'Grafana API',
    status: 'ok' as const,
    message: 'reachable at http://grafana:3000 with the managed service account',
    code: 'grafana.api_ok',
    args: { url: 'http://grafana:3000', source: 'managed service account' },
  };
  expect(checkText(c, 'zh').text).toBe('可通过插件的托管服务账号访问 http://grafana:3000');
  expect(checkText(c, 'en').text).toBe('reachable at http://grafana:3000 with the plugin’s managed service account');
});
