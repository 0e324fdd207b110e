import React from 'react';
import { render as rtlRender, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import userEvent from '@testing-library/user-event';
import { backend, config, setLanguage } from '../test/runtime';
import { RESOURCES } from '../test/render';
import GettingStarted, { GettingStartedProps } from './GettingStarted';
import {
  alertmanagerSnippet,
  allowedUsersSnippet,
  grafanaContactPointUrl,
  grafanaRouteSnippet,
  loginAllowed,
  serviceAccountLogin,
} from './alertmanagerSetup';

// Grafana renders app pages inside its router; TextLink needs one.
const render = (props: GettingStartedProps = {}) =>
  rtlRender(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <GettingStarted {...props} />
    </MemoryRouter>
  );

/** The health banner's answer has arrived (no state update after the test). */
const settled = () => screen.findByTestId('health-banner');

beforeEach(() => {
  backend.reset();
  setLanguage('en-US');
  config.appUrl = 'https://grafana.example.com/';
  config.appSubUrl = '';
  config.bootData.user.orgId = 1;
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'ok', message: '', detailed: true, checks: [] } });
});

test('health is shown at the top with every check', async () => {
  backend.on('GET', `${RESOURCES}/health`, {
    data: {
      status: 'warning',
      message: '1 of 3 checks need attention',
      checks: [
        { name: 'prometheus', status: 'ok', message: 'reachable' },
        { name: 'imageStore', status: 'warning', message: 'not configured; DingTalk charts go as links' },
        { name: 'queue', status: 'ok', message: 'sqlite' },
      ],
    },
  });
  render();
  expect(await screen.findByText('AlertChart works with warnings')).toBeInTheDocument();
  expect(screen.getByText('1 of 3 checks need attention')).toBeInTheDocument();
  expect(screen.getByText(/not configured; DingTalk charts go as links/)).toBeInTheDocument();
});

test('an unreachable backend is reported', async () => {
  backend.on('GET', `${RESOURCES}/health`, { status: 500, data: { message: 'plugin unavailable' } });
  render();
  expect(await screen.findByText('The plugin backend did not answer')).toBeInTheDocument();
  expect(screen.getByText('plugin unavailable (HTTP 500)')).toBeInTheDocument();
});

test('the service account login is built as Grafana builds it', () => {
  expect(serviceAccountLogin(1, 'alertmanager')).toBe('sa-1-alertmanager');
  expect(serviceAccountLogin(3, 'Alert Manager')).toBe('sa-3-alert-manager');
  // GenerateLogin: lower-case, the first "--" made "-", then every space "-".
  expect(serviceAccountLogin(1, '-prod')).toBe('sa-1-prod');
  expect(serviceAccountLogin(1, 'a--b--c')).toBe('sa-1-a-b--c');
  expect(serviceAccountLogin(1, 'a  b')).toBe('sa-1-a--b');
  expect(loginAllowed(['SA-1-Alertmanager'], 'sa-1-alertmanager')).toBe(true);
  expect(loginAllowed(['sa-1-other'], 'sa-1-alertmanager')).toBe(false);
  expect(loginAllowed(undefined, 'sa-1-alertmanager')).toBe(false);
});

test('README’s three steps with the org, the login and the receiver typed', async () => {
  config.bootData.user.orgId = 4;
  const user = userEvent.setup({ delay: null });
  render({ meta: { jsonData: {}, secureJsonFields: {} } });
  expect(screen.getByLabelText(/^Organisation ID/)).toHaveValue('4');
  expect(screen.getByTestId('sa-login')).toHaveTextContent('sa-4-alertmanager');
  expect(screen.getByTestId('allowed-users-snippet').textContent).toBe(
    'jsonData:\n  webhook:\n    allowedUsers: [sa-4-alertmanager]\n'
  );
  expect(screen.getByTestId('token-commands').textContent).toContain(
    'install -m 0600 -o prometheus /dev/null /etc/alertmanager/grafana-sa-token'
  );
  expect(screen.getByText(/named "alertmanager" with the Viewer role/)).toBeInTheDocument();

  const snippet = screen.getByTestId('am-snippet');
  expect(snippet.textContent).toBe(
    [
      'receivers:',
      '  - name: ops',
      '    webhook_configs:',
      '      - url: https://grafana.example.com/api/plugins/alertchart-webhook-app/resources/webhook/ops',
      '        send_resolved: true',
      '        max_alerts: 0',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      "            # the service account's token (glsa_…), in a file",
      '            credentials_file: /etc/alertmanager/grafana-sa-token',
      '',
    ].join('\n')
  );
  // No webhook token: no header, no note about Alertmanager 0.28.
  expect(snippet.textContent).not.toContain('X-AlertChart-Token');
  expect(screen.queryByTestId('token-header-note')).not.toBeInTheDocument();

  await user.clear(screen.getByLabelText(/^Receiver name/));
  await user.paste('team ops');
  expect(snippet.textContent).toContain('- name: "team ops"');
  expect(snippet.textContent).toContain(
    'url: "https://grafana.example.com/api/plugins/alertchart-webhook-app/resources/webhook/team%20ops"'
  );
  await user.clear(screen.getByLabelText(/^Service account name/));
  await user.paste('Prom AM');
  expect(screen.getByTestId('sa-login')).toHaveTextContent('sa-4-prom-am');
  expect(screen.getByTestId('allowed-users-snippet')).toHaveTextContent('allowedUsers: [sa-4-prom-am]');
  expect(screen.getAllByRole('button', { name: 'Copy' }).length).toBeGreaterThanOrEqual(3);
  expect(await screen.findByText('AlertChart is working')).toBeInTheDocument();
});

test('a warning when the saved settings do not allow the login; none once they do', async () => {
  const { unmount } = render({ meta: { jsonData: { webhook: { allowedUsers: ['sa-1-other'] } } } });
  await settled();
  const status = screen.getByTestId('login-status');
  expect(status).toHaveTextContent('The saved settings do not allow sa-1-alertmanager');
  expect(within(status).getByRole('link', { name: 'configuration page' })).toHaveAttribute(
    'href',
    '/plugins/alertchart-webhook-app'
  );
  unmount();
  render({ meta: { jsonData: { webhook: { allowedUsers: ['sa-1-other', 'SA-1-alertmanager'] } } } });
  expect(screen.getByTestId('login-status')).toHaveTextContent('The saved settings allow sa-1-alertmanager');
  await settled();
});

test('with only a webhook token and no login listed, any token holder is taken: the page says so', async () => {
  render({ meta: { jsonData: {}, secureJsonFields: { webhookToken: true } } });
  const status = screen.getByTestId('login-status');
  expect(status).toHaveTextContent('No login is listed: any caller with the webhook token is taken');
  expect(status).toHaveTextContent('List sa-1-alertmanager in webhook.allowedUsers');
  await settled();
});

test('without the saved settings (not handed to the page) nothing is claimed about them', async () => {
  render();
  expect(screen.queryByTestId('login-status')).not.toBeInTheDocument();
  await settled();
});

test('with a webhook token the receiver sends it from a file, for Alertmanager 0.28 and later', async () => {
  render({ meta: { jsonData: {}, secureJsonFields: { webhookToken: true } } });
  await settled();
  expect(screen.getByTestId('am-snippet').textContent).toContain(
    [
      '            credentials_file: /etc/alertmanager/grafana-sa-token',
      '          # Alertmanager ≥ 0.28: the webhook token, read from a file',
      '          http_headers:',
      '            X-AlertChart-Token:',
      '              files: [/etc/alertmanager/alertchart-webhook-token]',
      '',
    ].join('\n')
  );
  const note = screen.getByTestId('token-header-note');
  expect(note).toHaveTextContent('Alertmanager 0.28 or later');
  expect(note).toHaveTextContent('rely on the service account alone');
  expect(screen.getByTestId('token-commands').textContent).toContain('/etc/alertmanager/alertchart-webhook-token');
});

test('the receiver’s URL follows Grafana’s address as Alertmanager reaches it', async () => {
  const user = userEvent.setup({ delay: null });
  render({ meta: { jsonData: {} } });
  const input = screen.getByLabelText(/^Grafana URL as Alertmanager reaches it/);
  expect(input).toHaveValue('https://grafana.example.com');
  await user.clear(input);
  await user.paste('http://grafana:3000/');
  expect(screen.getByTestId('am-snippet').textContent).toContain(
    '      - url: http://grafana:3000/api/plugins/alertchart-webhook-app/resources/webhook/ops\n'
  );
  await settled();
});

test('without root_url the browser origin and sub path are used', () => {
  config.appUrl = '';
  config.appSubUrl = '/grafana';
  expect(alertmanagerSnippet({ receiver: 'ops', webhookToken: false })).toContain(
    `url: ${window.location.origin}/grafana/api/plugins/alertchart-webhook-app/resources/webhook/ops`
  );
  expect(allowedUsersSnippet(['sa-1-alertmanager'])).toContain('allowedUsers: [sa-1-alertmanager]');
});

test('Grafana Alerting: the webhook contact point, its header only with a webhook token, the route', async () => {
  const user = userEvent.setup({ delay: null });
  render({
    meta: {
      jsonData: {
        channels: [
          { name: 'ops-wecom', type: 'wecom' },
          { name: 'dba-ding', type: 'dingtalk' },
        ],
        routes: [{ receiver: 'ops', channels: ['ops-wecom'] }],
        webhook: { allowedUsers: ['sa-1-alertmanager'] },
      },
      secureJsonFields: {},
    },
  });
  await user.click(screen.getByRole('tab', { name: 'Grafana Alerting' }));
  const cp = screen.getByTestId('contact-point');
  expect(cp).toHaveTextContent('URLhttp://localhost:3000/api/plugins/alertchart-webhook-app/resources/webhook/grafana');
  expect(cp).toHaveTextContent('HTTP MethodPOST');
  expect(cp).toHaveTextContent('Bearer / the service account’s token (glsa_…)');
  expect(cp).toHaveTextContent('Leave them empty');
  expect(cp).not.toHaveTextContent('X-AlertChart-Token');
  expect(screen.getByTestId('grafana-route-snippet').textContent).toBe(
    'jsonData:\n  routes:\n    - receiver: grafana\n      channels: [ops-wecom, dba-ding]\n'
  );
  expect(
    screen.getByText('No route has receiver "grafana" yet: AlertChart refuses its webhooks until one does')
  ).toBeInTheDocument();
  expect(screen.getByTestId('login-status')).toHaveTextContent('The saved settings allow sa-1-alertmanager');

  await user.clear(screen.getByLabelText(/^Grafana’s address from the Grafana server/));
  await user.paste('https://grafana.internal:3443/');
  expect(cp).toHaveTextContent(
    'https://grafana.internal:3443/api/plugins/alertchart-webhook-app/resources/webhook/grafana'
  );
  await settled();
});

test('Grafana Alerting with a webhook token names the extra header', async () => {
  const user = userEvent.setup({ delay: null });
  render({
    meta: {
      jsonData: { routes: [{ receiver: 'grafana', channels: ['x'] }] },
      secureJsonFields: { webhookToken: true },
    },
  });
  await user.click(screen.getByRole('tab', { name: 'Grafana Alerting' }));
  expect(screen.getByTestId('contact-point')).toHaveTextContent(
    'Extra headersX-AlertChart-Token: the webhook token (secureJsonData.webhookToken)'
  );
  expect(screen.queryByText(/No route has receiver/)).not.toBeInTheDocument();
  expect(grafanaContactPointUrl('http://localhost:3000/grafana/')).toBe(
    'http://localhost:3000/grafana/api/plugins/alertchart-webhook-app/resources/webhook/grafana'
  );
  expect(grafanaRouteSnippet([])).toContain('channels: [ops-wecom]');
  await settled();
});

test('Chinese instructions', async () => {
  setLanguage('zh-Hans');
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'error', message: 'no channels' } });
  const user = userEvent.setup({ delay: null });
  render({ meta: { jsonData: {} } });
  expect(await screen.findByText('AlertChart 无法工作')).toBeInTheDocument();
  expect(screen.getByText('1. 为 Alertmanager 创建服务账号')).toBeInTheDocument();
  expect(screen.getByTestId('login-status')).toHaveTextContent('已保存的设置尚未允许 sa-1-alertmanager');
  expect(screen.getByTestId('am-snippet').textContent).toContain('# 服务账号令牌（glsa_…），保存在文件中');
  await user.click(screen.getByRole('tab', { name: 'Grafana 告警' }));
  expect(screen.getByText('2. 联络点')).toBeInTheDocument();
  setLanguage('en-US');
});
