import { readFileSync } from 'fs';
import { join } from 'path';
import { CHANNEL_TYPES, JSON_FIELDS, PROMETHEUS_HEADER_PREFIX, SECRET_KEYS } from './model';

// The one settings model lives in Go; read its json tags and constants from the source.
const goSource = readFileSync(join(__dirname, '../../pkg/settings/settings.go'), 'utf8');

function goJsonTags(structName: string): string[] {
  const m = new RegExp(`type ${structName} struct \\{([\\s\\S]*?)\\n\\}`).exec(goSource);
  if (!m) {
    throw new Error(`struct ${structName} not found in settings.go`);
  }
  return [...m[1].matchAll(/json:"([^",]+)/g)].map((x) => x[1]).filter((tag) => tag !== '-');
}

test.each(Object.entries(JSON_FIELDS))('%s has exactly the json tags of pkg/settings', (struct, fields) => {
  expect([...fields].sort()).toEqual(goJsonTags(struct).sort());
});

test('secureJsonData keys are the Go constants', () => {
  const consts = Object.fromEntries(
    [...goSource.matchAll(/^\s+(Secret\w+|PrometheusHeaderPrefix)\s+=\s+"([^"]+)"/gm)].map((m) => [m[1], m[2]])
  );
  expect(consts).toMatchObject({
    SecretPrometheusPassword: SECRET_KEYS.prometheusPassword,
    SecretPrometheusToken: SECRET_KEYS.prometheusToken,
    SecretGrafanaToken: SECRET_KEYS.grafanaToken,
    SecretImageStoreAccess: SECRET_KEYS.imageStoreAccessKey,
    SecretImageStoreSecret: SECRET_KEYS.imageStoreSecretKey,
    SecretPostgresDSN: SECRET_KEYS.postgresDsn,
    SecretWebhookToken: SECRET_KEYS.webhookToken,
    PrometheusHeaderPrefix: PROMETHEUS_HEADER_PREFIX,
    SecretURL: 'url',
    SecretSecret: 'secret',
    SecretToken: 'token',
    SecretAppSecret: 'appSecret',
  });
});

test('channel types are settings.ChannelTypes', () => {
  const m = /var ChannelTypes = \[\]string\{([^}]*)\}/.exec(goSource);
  expect([...m![1].matchAll(/"(\w+)"/g)].map((x) => x[1])).toEqual([...CHANNEL_TYPES]);
});
