import { draftFromMeta, prune, toPayload } from './draft';
import { JsonData } from './model';

const saved: JsonData = {
  prometheus: { url: 'https://prom:9090', headers: { 'X-Scope-OrgID': 'tenant-1' } },
  chart: { renderer: 'native', width: 1200 },
  channels: [
    { name: 'ops-wecom', type: 'wecom', mentionAll: true },
    { name: 'ops-ding', type: 'dingtalk' },
  ],
  routes: [{ receiver: 'ops', channels: ['ops-wecom'], match: { severity: 'critical' } }],
};
const fields = {
  prometheusPassword: true,
  grafanaToken: true,
  'channels.ops-wecom.url': true,
  'channels.ops-ding.url': true,
  'channels.ops-ding.secret': true,
  'prometheusHeader.Authorization': true,
};

describe('toPayload', () => {
  test('an untouched draft saves the same jsonData and no secrets', () => {
    const p = toPayload(draftFromMeta(saved, fields));
    expect(p.jsonData).toEqual(saved);
    expect(p.secureJsonData).toEqual({});
  });

  test('keeps jsonData fields this page does not know (added later to pkg/settings)', () => {
    const withNew = { ...saved, chart: { ...saved.chart, someNewField: 'x' }, futureSection: { a: 1 } } as JsonData;
    expect(toPayload(draftFromMeta(withNew, {})).jsonData).toMatchObject({
      chart: { someNewField: 'x' },
      futureSection: { a: 1 },
    });
  });

  test('new values are sent, reset secrets are sent as "", untouched ones are left out', () => {
    const d = draftFromMeta(saved, fields);
    d.secrets.grafanaToken = { configured: false, value: '' }; // reset
    d.secrets.prometheusToken = { configured: false, value: 'tok' }; // new
    d.channels[0].secrets.url = { configured: false, value: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' };
    expect(toPayload(d).secureJsonData).toEqual({
      grafanaToken: '',
      prometheusToken: 'tok',
      'channels.ops-wecom.url': 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
    });
  });

  test('removing a channel clears its stored secrets', () => {
    const d = draftFromMeta(saved, fields);
    d.channels = d.channels.filter((c) => c.data.name !== 'ops-ding');
    const p = toPayload(d);
    expect(p.jsonData.channels).toEqual([{ name: 'ops-wecom', type: 'wecom', mentionAll: true }]);
    expect(p.secureJsonData).toEqual({ 'channels.ops-ding.url': '', 'channels.ops-ding.secret': '' });
  });

  test('renaming a channel stores the re-entered secrets under the new name and clears the old ones', () => {
    const d = draftFromMeta(saved, fields);
    d.channels[1].data = { ...d.channels[1].data, name: 'db-ding' };
    d.channels[1].secrets.url = { configured: false, value: 'https://oapi.dingtalk.com/robot/send?access_token=t' };
    expect(toPayload(d).secureJsonData).toEqual({
      'channels.db-ding.url': 'https://oapi.dingtalk.com/robot/send?access_token=t',
      'channels.ops-ding.url': '',
      'channels.ops-ding.secret': '',
    });
  });

  test('changing a channel type clears secrets the new type does not use', () => {
    const d = draftFromMeta(saved, fields);
    d.channels[1].data = { ...d.channels[1].data, type: 'teams' };
    expect(toPayload(d).secureJsonData).toEqual({ 'channels.ops-ding.secret': '' });
  });

  test('headers: plain ones in jsonData, secret ones in secureJsonData', () => {
    const d = draftFromMeta(saved, fields);
    expect(d.headers.map((h) => [h.name, h.secret, h.configured])).toEqual([
      ['X-Scope-OrgID', false, false],
      ['Authorization', true, true],
    ]);
    d.headers.push({ key: 'n', name: 'X-Api-Key', value: 'k1', secret: true, configured: false, originalName: null });
    d.headers = d.headers.filter((h) => h.name !== 'Authorization');
    const p = toPayload(d);
    expect(p.jsonData.prometheus?.headers).toEqual({ 'X-Scope-OrgID': 'tenant-1' });
    expect(p.secureJsonData).toEqual({ 'prometheusHeader.X-Api-Key': 'k1', 'prometheusHeader.Authorization': '' });
  });

  test('empty values are omitted like Go omitempty, but channels and routes always go out', () => {
    const d = draftFromMeta({}, {});
    d.json.chart = { width: undefined, theme: '', legendFormat: '' };
    d.json.imageStore = { insecure: false };
    expect(toPayload(d).jsonData).toEqual({ channels: [], routes: [] });
  });
});

describe('prune', () => {
  test('drops empty leaves and containers, keeps true, strings and numbers', () => {
    expect(prune({ a: '', b: [], c: {}, d: { e: undefined }, f: true, g: 'x', h: 3, i: [''] })).toEqual({
      f: true,
      g: 'x',
      h: 3,
    });
  });
});
