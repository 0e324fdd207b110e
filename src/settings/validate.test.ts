import { Draft, draftFromMeta } from './draft';
import { JsonData } from './model';
import { FieldIssue, validateDraft } from './validate';
import { t } from '../i18n/i18n';

const issues = (json: JsonData, secure: Record<string, boolean> = {}): Array<[string, string]> =>
  validateDraft(draftFromMeta(json, secure)).map((i: FieldIssue) => [i.path, t(i.code as never, i.vars, 'en')]);

describe('validateDraft mirrors pkg/settings Validate', () => {
  test('empty settings are valid (all defaults)', () => {
    expect(issues({})).toEqual([]);
  });

  test('chart rules, with the same paths and words', () => {
    expect(
      issues({
        chart: {
          renderer: 'svg',
          theme: 'blue',
          language: 'fr',
          timezone: 'Mars/Olympus',
          windowMultiplier: -1,
          minWindow: '2d',
          width: 100,
          height: 5000,
          pixelRatio: 8,
          maxSeries: 101,
        },
      })
    ).toEqual([
      ['chart.renderer', 'must be auto, native or grafana, not "svg"'],
      ['chart.theme', 'must be dark or light, not "blue"'],
      ['chart.language', 'must be zh or en, not "fr"'],
      ['chart.timezone', 'unknown time zone "Mars/Olympus"'],
      ['chart.windowMultiplier', 'must be positive'],
      ['chart.minWindow', 'invalid duration "2d" (use e.g. "10m" or "1h30m")'],
      ['chart.width', 'must be between 200 and 4000, not 100'],
      ['chart.height', 'must be between 150 and 3000, not 5000'],
      ['chart.pixelRatio', 'must be between 0.5 and 4'],
      ['chart.maxSeries', 'must be between 1 and 100, not 101'],
    ]);
  });

  test('minWindow larger than maxWindow, in Go duration words', () => {
    expect(issues({ chart: { minWindow: '2h', maxWindow: '30m' } })).toEqual([
      ['chart.minWindow', '2h0m0s is larger than chart.maxWindow 30m0s'],
    ]);
    // The default maxWindow (24h) applies when it is not set.
    expect(issues({ chart: { minWindow: '25h' } })).toEqual([
      ['chart.minWindow', '25h0m0s is larger than chart.maxWindow 24h0m0s'],
    ]);
  });

  test('alertmanager.url and webhook.allowedUsers, with the same paths and words', () => {
    expect(
      issues({
        alertmanager: { url: 'alertmanager:9093' },
        webhook: { allowedUsers: ['sa-1-alertmanager', ' sa-1-x', ''] },
      })
    ).toEqual([
      ['alertmanager.url', 'must be an http:// or https:// URL'],
      ['webhook.allowedUsers[1]', 'must be a Grafana login without spaces around it, e.g. sa-1-alertmanager'],
      ['webhook.allowedUsers[2]', 'must be a Grafana login without spaces around it, e.g. sa-1-alertmanager'],
    ]);
    for (const bad of ['ftp://am.example.com', 'https://', 'http://a b', '/alertmanager']) {
      expect([bad, issues({ alertmanager: { url: bad } })]).toEqual([
        bad,
        [['alertmanager.url', 'must be an http:// or https:// URL']],
      ]);
    }
    expect(issues({ alertmanager: { url: 'https://am.example.com:9093/am/' } })).toEqual([]);
  });

  test('the grafana renderer needs a template dashboard and panel', () => {
    expect(issues({ chart: { renderer: 'grafana', templateDashboardUid: 'abc' } })).toEqual([
      ['chart.templateDashboardUid', 'the grafana renderer needs a template dashboard and panel'],
    ]);
    expect(issues({ chart: { renderer: 'grafana', templateDashboardUid: 'abc', templatePanelId: 2 } })).toEqual([]);
  });

  test('scrape interval between 1s and 1h', () => {
    expect(issues({ prometheus: { scrapeInterval: '500ms' } })).toEqual([
      ['prometheus.scrapeInterval', 'must be between 1s and 1h'],
    ]);
    expect(issues({ prometheus: { scrapeInterval: '2h' } })).toEqual([
      ['prometheus.scrapeInterval', 'must be between 1s and 1h'],
    ]);
    expect(issues({ prometheus: { scrapeInterval: '30s' } })).toEqual([]);
  });

  test('prometheus URL scheme', () => {
    expect(issues({ prometheus: { url: 'prometheus:9090' } })).toEqual([
      ['prometheus.url', 'must start with http:// or https://'],
    ]);
    expect(issues({ prometheus: { url: 'https://prom' } })).toEqual([]);
  });

  test('channels: names, types, language, rate limit', () => {
    expect(
      issues({
        channels: [
          { name: '', type: 'wecom' },
          { name: 'ops', type: 'slack' },
          { name: 'ops', type: 'slack' },
          { name: 'a b', type: 'sms', language: 'de', rateLimitPerMinute: -1 },
          { name: 'x.y', type: 'inbox' },
        ],
      })
    ).toEqual([
      ['channels[0].name', 'is required'],
      ['channels[2].name', '"ops" is used twice'],
      ['channels[3].name', "\"a b\" may not contain '/', '.' or spaces"],
      [
        'channels[3].type',
        'must be one of wecom, dingtalk, feishu, teams, slack, telegram, discord, webhook, inbox, not "sms"',
      ],
      ['channels[3].language', 'must be zh or en'],
      ['channels[3].rateLimitPerMinute', 'must not be negative'],
      ['channels[4].name', "\"x.y\" may not contain '/', '.' or spaces"],
    ]);
  });

  test('routes: receiver, at least one channel, known channel names', () => {
    expect(
      issues({
        channels: [{ name: 'ops', type: 'wecom' }],
        routes: [
          { receiver: '', channels: [] },
          { receiver: 'db', channels: ['ops', 'gone'] },
        ],
      })
    ).toEqual([
      ['routes[0].receiver', 'is required'],
      ['routes[0].channels', 'needs at least one channel'],
      ['routes[1].channels[1]', 'no channel is named "gone"'],
    ]);
  });

  test('postgres queue needs the DSN secret, configured or newly typed', () => {
    expect(issues({ delivery: { queue: 'postgres' } })).toEqual([
      ['secureJsonData.postgresDsn', 'is required when delivery.queue is postgres'],
    ]);
    expect(issues({ delivery: { queue: 'postgres' } }, { postgresDsn: true })).toEqual([]);
    const d: Draft = draftFromMeta({ delivery: { queue: 'postgres' } }, {});
    d.secrets.postgresDsn = { configured: false, value: 'postgres://x' };
    expect(validateDraft(d)).toEqual([]);
    expect(issues({ delivery: { queue: 'redis' } })).toEqual([
      ['delivery.queue', 'must be sqlite or postgres, not "redis"'],
    ]);
  });

  test('image store and webhook limits', () => {
    expect(
      issues({ imageStore: { endpoint: 's3.amazonaws.com', presignExpiry: '169h' }, webhook: { maxBodyBytes: 100 } })
    ).toEqual([
      ['imageStore.presignExpiry', 'must be at most 7 days (S3 limit)'],
      ['imageStore.bucket', 'is required when imageStore.endpoint is set'],
      ['webhook.maxBodyBytes', 'must be at least 1024'],
    ]);
  });

  test('durations that settings.Parse cannot read are reported at their path', () => {
    expect(
      issues({ delivery: { dedupeWindow: 'ten minutes' }, prometheus: { timeout: '5 s' } }).map(([p]) => p)
    ).toEqual(['prometheus.timeout', 'delivery.dedupeWindow']);
  });

  test('messages are translated, paths are not', () => {
    const d = draftFromMeta({ chart: { width: 10 } }, {});
    const [i] = validateDraft(d);
    expect(i.path).toBe('chart.width');
    expect(t(i.code as never, i.vars, 'zh')).toBe('必须在 200 到 4000 之间，而不是 10');
  });
});
