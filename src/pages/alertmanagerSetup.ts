/**
 * What README's "Point Alertmanager at it" and "Grafana Alerting" set-ups
 * produce, as pure functions of the user's inputs, so the Getting started
 * page and its tests build exactly the same text.
 */
import { externalResourceUrl } from '../api/resources';
import { RESOURCE_PATH } from '../constants';
import { t } from '../i18n/i18n';

export { loginAllowed, serviceAccountLogin } from '../settings/identity';

/** Where README tells admins to keep Alertmanager's service-account token. */
export const SA_TOKEN_FILE = '/etc/alertmanager/grafana-sa-token';
/** … and the webhook token (secureJsonData.webhookToken), for Alertmanager ≥ 0.28's http_headers. */
export const WEBHOOK_TOKEN_FILE = '/etc/alertmanager/alertchart-webhook-token';
/** The header the plugin reads the webhook token from (Go: resources.WebhookTokenHeader). */
export const WEBHOOK_TOKEN_HEADER = 'X-AlertChart-Token';
/** The receiver AlertChart routes Grafana Alerting's webhooks by (README). */
export const GRAFANA_RECEIVER = 'grafana';

/** Quotes a YAML scalar when it would not stay a plain string. */
export function yamlString(s: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(s) && !/^[-:]/.test(s) ? s : JSON.stringify(s);
}

/** The webhook URL for a receiver at Grafana's address as Alertmanager reaches it (default: root_url, else the browser's origin). */
export function webhookUrl(receiver: string, grafanaUrl?: string): string {
  const r = receiver.trim();
  return externalResourceUrl(r ? `webhook/${encodeURIComponent(r)}` : 'webhook', grafanaUrl || undefined);
}

/** The jsonData that tells AlertChart Alertmanager's login (README step 2). */
export function allowedUsersSnippet(logins: readonly string[]): string {
  return ['jsonData:', '  webhook:', `    allowedUsers: [${logins.map(yamlString).join(', ')}]`, ''].join('\n');
}

export interface ReceiverOptions {
  receiver: string;
  /** Grafana's address as Alertmanager reaches it; default root_url, else the browser's origin. */
  grafanaUrl?: string;
  /** secureJsonFields.webhookToken: a webhook must also carry the token. */
  webhookToken: boolean;
}

/** Alertmanager's receiver for AlertChart (README step 3), with the token header when the webhook token is set. */
export function alertmanagerSnippet({ receiver, grafanaUrl, webhookToken }: ReceiverOptions): string {
  const name = receiver.trim() || 'alertchart';
  const lines = [
    'receivers:',
    `  - name: ${yamlString(name)}`,
    '    webhook_configs:',
    `      - url: ${yamlString(webhookUrl(name, grafanaUrl))}`,
    '        send_resolved: true',
    '        max_alerts: 0',
    '        http_config:',
    '          authorization:',
    '            type: Bearer',
    `            # ${t('start.snippet.token')}`,
    `            credentials_file: ${SA_TOKEN_FILE}`,
  ];
  if (webhookToken) {
    lines.push(
      `          # Alertmanager ≥ 0.28: ${t('start.snippet.webhookToken')}`,
      '          http_headers:',
      `            ${WEBHOOK_TOKEN_HEADER}:`,
      `              files: [${WEBHOOK_TOKEN_FILE}]`
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** The shell lines that store the tokens in files only Alertmanager's user can read (README step 1). */
export function tokenFileCommands(webhookToken: boolean): string {
  const lines = [
    `# ${t('start.shell.owner')}`,
    `install -m 0600 -o prometheus /dev/null ${SA_TOKEN_FILE}`,
    `printf '%s' 'glsa_…' > ${SA_TOKEN_FILE}`,
  ];
  if (webhookToken) {
    lines.push(
      `install -m 0600 -o prometheus /dev/null ${WEBHOOK_TOKEN_FILE}`,
      `printf '%s' '<webhookToken>' > ${WEBHOOK_TOKEN_FILE}`
    );
  }
  return lines.join('\n');
}

/**
 * The contact point URL Grafana Alerting posts to: Grafana's own address as
 * the Grafana server reaches it, then the resource path for receiver "grafana".
 */
export function grafanaContactPointUrl(selfUrl: string): string {
  return `${selfUrl.trim().replace(/\/+$/, '')}${RESOURCE_PATH}/webhook/${GRAFANA_RECEIVER}`;
}

/** The route for Grafana Alerting's receiver (README "Notification policy"). */
export function grafanaRouteSnippet(channels: readonly string[]): string {
  const list = channels.length ? channels : ['ops-wecom'];
  return [
    'jsonData:',
    '  routes:',
    `    - receiver: ${GRAFANA_RECEIVER}`,
    `      channels: [${list.map(yamlString).join(', ')}]`,
    '',
  ].join('\n');
}
