import { screen, waitFor, within } from '@testing-library/react';
import { backend, setLanguage } from '../../test/runtime';
import { RESOURCES, SETTINGS_URL, fill, pickOption, renderConfig, resetButtonFor } from '../../test/render';
import { reloadPage } from '../../utils/reload';
import { JsonData } from '../../settings/model';

jest.mock('../../utils/reload', () => ({ reloadPage: jest.fn() }));
// user-event drives real Grafana components; a full form path takes a few seconds on a busy machine.

const saved: JsonData = {
  prometheus: { url: 'https://prom.example:9090', basicAuthUser: 'alice' },
  chart: { renderer: 'native', width: 1200 },
  channels: [{ name: 'ops-wecom', type: 'wecom', mentionAll: true }],
  routes: [{ receiver: 'ops', channels: ['ops-wecom'] }],
};
const secure = { prometheusPassword: true, grafanaToken: true, 'channels.ops-wecom.url': true };

beforeEach(() => {
  backend.reset();
  setLanguage('en-US');
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'ok', message: 'settings are valid' } });
  (reloadPage as jest.Mock).mockClear();
  backend.on('GET', `${RESOURCES}/recent`, { data: { alerts: [] } });
  backend.on('POST', SETTINGS_URL, { data: { message: 'Plugin settings updated' } });
});

const savedBody = () => {
  const calls = backend.callsTo('POST', SETTINGS_URL);
  expect(calls).toHaveLength(1);
  return calls[0].data as {
    enabled: boolean;
    pinned: boolean;
    jsonData: JsonData;
    secureJsonData?: Record<string, string>;
  };
};

test('an untouched page saves exactly the loaded settings, sends no secrets and reloads', async () => {
  const { user } = renderConfig(saved, secure);
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody()).toEqual({ enabled: true, pinned: true, jsonData: saved, secureJsonData: undefined });
  expect(backend.callsTo('POST', SETTINGS_URL)[0].options.showErrorAlert).toBe(false);
});

test('configured secrets show as "configured" with Reset; their values are never in the page', async () => {
  renderConfig(saved, secure);
  const password = screen.getByLabelText('Basic auth password');
  expect(password).toHaveValue('configured');
  expect(password).toBeDisabled();
  const token = screen.getByLabelText(/^Bearer token/);
  expect(token).toHaveValue('');
  expect(token).toHaveAttribute('type', 'password');
  expect(screen.getByLabelText(/^Grafana service account token/)).toHaveValue('configured');
});

test('reset and new secrets: only the changed ones are sent, a reset one as ""', async () => {
  const { user } = renderConfig(saved, secure);
  const grafanaToken = screen.getByLabelText(/^Grafana service account token/);
  await user.click(resetButtonFor(grafanaToken));
  expect(screen.getByLabelText(/^Grafana service account token/)).toHaveValue('');
  await fill(user, screen.getByLabelText(/^Bearer token/), 'prom-token-1');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody().secureJsonData).toEqual({ grafanaToken: '', prometheusToken: 'prom-token-1' });
});

test('adding a Slack channel and routing a receiver to it', async () => {
  const { user } = renderConfig(saved, secure);
  await user.click(screen.getByRole('button', { name: 'Add channel' }));
  await fill(user, document.getElementById('ac-ch-1-name')!, 'db-slack');
  await pickOption(user, document.getElementById('ac-ch-1-type')!, 'Slack');
  await fill(user, document.getElementById('ac-ch-1-url')!, 'https://hooks.slack.com/services/T/B/X');
  await fill(user, document.getElementById('ac-ch-1-slackChannel')!, 'C0123');
  // a new channel cannot be tested before it is saved
  expect(screen.getByText('Save the channel to send a test.')).toBeInTheDocument();

  await user.click(screen.getByRole('button', { name: 'Add route' }));
  await fill(user, document.getElementById('ac-route-1-receiver')!, 'db');
  await user.click(within(screen.getByTestId('route-1')).getByLabelText('db-slack'));
  await user.click(within(screen.getByTestId('route-1')).getByRole('button', { name: 'Add label' }));
  await fill(user, screen.getByLabelText('Label 1 name'), 'severity');
  await fill(user, screen.getByLabelText('Label 1 value'), 'critical');

  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  const body = savedBody();
  expect(body.jsonData.channels).toEqual([
    { name: 'ops-wecom', type: 'wecom', mentionAll: true },
    { name: 'db-slack', type: 'slack', slackChannel: 'C0123' },
  ]);
  expect(body.jsonData.routes).toEqual([
    { receiver: 'ops', channels: ['ops-wecom'] },
    { receiver: 'db', channels: ['db-slack'], match: { severity: 'critical' } },
  ]);
  expect(body.secureJsonData).toEqual({ 'channels.db-slack.url': 'https://hooks.slack.com/services/T/B/X' });
});

test('removing a channel clears its secret; routes still naming it block saving', async () => {
  const { user } = renderConfig(saved, secure);
  await user.click(screen.getByRole('button', { name: /ops-wecom/ }));
  await user.click(screen.getByRole('button', { name: 'Remove channel' }));
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  expect(await screen.findByText(/Fix 1 problem/)).toBeInTheDocument();
  expect(screen.getAllByText(/no channel is named "ops-wecom"/).length).toBeGreaterThan(0);
  expect(backend.callsTo('POST', SETTINGS_URL)).toHaveLength(0);

  await user.click(screen.getByRole('button', { name: 'Remove route 1' }));
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  const body = savedBody();
  expect(body.jsonData.channels).toEqual([]);
  expect(body.jsonData.routes).toEqual([]);
  expect(body.secureJsonData).toEqual({ 'channels.ops-wecom.url': '' });
});

test('renaming a channel asks for its secrets again and routes follow the new name', async () => {
  const { user } = renderConfig(saved, secure);
  await user.click(screen.getByRole('button', { name: /ops-wecom/ }));
  expect(document.getElementById('ac-ch-0-url')).toHaveValue('configured');
  const name = document.getElementById('ac-ch-0-name')!;
  await user.clear(name);
  await fill(user, name, 'sre-wecom');
  expect(screen.getByText('Secrets must be entered again')).toBeInTheDocument();
  expect(document.getElementById('ac-ch-0-url')).toHaveValue('');
  await fill(user, document.getElementById('ac-ch-0-url')!, 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=new');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  const body = savedBody();
  expect(body.jsonData.routes).toEqual([{ receiver: 'ops', channels: ['sre-wecom'] }]);
  expect(body.secureJsonData).toEqual({
    'channels.sre-wecom.url': 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=new',
    'channels.ops-wecom.url': '',
  });
});

test('validation messages appear at the field and in a summary with the backend field paths; nothing is saved', async () => {
  const { user } = renderConfig(saved, secure);
  const width = document.getElementById('ac-chart-width')!;
  await user.clear(width);
  await fill(user, width, '50');
  expect(screen.getByText('must be between 200 and 4000, not 50')).toBeInTheDocument();
  const url = document.getElementById('ac-prometheus-url')!;
  await user.clear(url);
  await fill(user, url, 'prom:9090');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  const summary = await screen.findByText(/Fix 2 problem/);
  const list = summary.closest('[role="alert"]') ?? summary.parentElement!.parentElement!;
  expect(list).toHaveTextContent('prometheus.url: must start with http:// or https://');
  expect(list).toHaveTextContent('chart.width: must be between 200 and 4000, not 50');
  expect(backend.callsTo('POST', SETTINGS_URL)).toHaveLength(0);
});

test('the postgres queue requires its DSN secret', async () => {
  const { user } = renderConfig({}, {});
  await user.click(screen.getByLabelText('PostgreSQL'));
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  expect(await screen.findByText(/secureJsonData\.postgresDsn/)).toBeInTheDocument();
  await fill(user, screen.getByLabelText(/^PostgreSQL DSN/), 'postgres://u:p@db/alertchart');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody()).toMatchObject({
    jsonData: { delivery: { queue: 'postgres' } },
    secureJsonData: { postgresDsn: 'postgres://u:p@db/alertchart' },
  });
});

test('a failed save shows Grafana’s message and does not reload', async () => {
  backend.on('POST', SETTINGS_URL, { status: 403, data: { message: 'Permission denied' } });
  const { user } = renderConfig(saved, secure);
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  expect(await screen.findByText('Settings were not saved')).toBeInTheDocument();
  expect(screen.getByText('Permission denied (HTTP 403)')).toBeInTheDocument();
  expect(reloadPage).not.toHaveBeenCalled();
});

test('choosing a Grafana Prometheus data source replaces the direct URL', async () => {
  const { user } = renderConfig(saved, secure);
  await user.click(screen.getByLabelText('Grafana data source'));
  const picker = screen.getByLabelText('Data source picker');
  // the picker only offers Prometheus data sources
  expect(within(picker).queryByText('Loki')).not.toBeInTheDocument();
  await user.selectOptions(picker, 'prom-thanos');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody().jsonData.prometheus).toEqual({ datasourceUid: 'prom-thanos', basicAuthUser: 'alice' });
});

test('custom headers: plain ones go to jsonData, secret ones to secureJsonData', async () => {
  const { user } = renderConfig(saved, { ...secure, 'prometheusHeader.X-Api-Key': true });
  expect(screen.getByLabelText('Header 1 value')).toHaveValue('configured');
  await user.click(screen.getByRole('button', { name: 'Add header' }));
  await fill(user, screen.getByLabelText('Header 2 name'), 'X-Scope-OrgID');
  await fill(user, screen.getByLabelText('Header 2 value'), 'tenant-7');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  const body = savedBody();
  expect(body.jsonData.prometheus?.headers).toEqual({ 'X-Scope-OrgID': 'tenant-7' });
  expect(body.secureJsonData).toBeUndefined();
});

test('grafana renderer: template dashboard and panel pickers read Grafana’s search and dashboard APIs', async () => {
  backend.on('GET', '/api/search', ({ params }) => ({
    data:
      params?.type === 'dash-db'
        ? [
            { uid: 'node', title: 'Node Exporter', folderTitle: 'Infra', type: 'dash-db' },
            { uid: 'k8s', title: 'Kubernetes', folderTitle: 'Infra', type: 'dash-db' },
          ]
        : [],
  }));
  backend.on('GET', '/api/dashboards/uid/node', {
    data: {
      meta: { slug: 'node-exporter' },
      dashboard: {
        uid: 'node',
        title: 'Node Exporter',
        panels: [
          { id: 1, type: 'timeseries', title: 'CPU' },
          { id: 9, type: 'row', title: 'Disk', panels: [{ id: 10, type: 'timeseries', title: 'IO' }] },
        ],
      },
    },
  });
  const { user } = renderConfig({}, {});
  await user.click(screen.getByLabelText('Grafana'));
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  expect(
    (await screen.findAllByText('the grafana renderer needs a template dashboard and panel')).length
  ).toBeGreaterThan(0);

  await pickOption(user, document.getElementById('ac-template-dashboard')!, /Node Exporter/);
  await pickOption(user, await screen.findByRole('combobox', { name: /^Template panel/ }), /IO \(#10\)/);
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody().jsonData.chart).toEqual({
    renderer: 'grafana',
    templateDashboardUid: 'node',
    templatePanelId: 10,
  });
  expect(backend.callsTo('GET', '/api/search')[0].params).toMatchObject({ type: 'dash-db' });
});

test('a v2 dashboard Grafana will not return as classic JSON falls back to typing the panel ID', async () => {
  backend.on('GET', '/api/dashboards/uid/v2dash', {
    status: 406,
    data: {
      message:
        'dashboard api version not supported, use /apis/dashboard.grafana.app/v2/namespaces/default/dashboards/v2dash instead',
    },
  });
  const { user } = renderConfig({ chart: { renderer: 'grafana', templateDashboardUid: 'v2dash' } }, {});
  expect(await screen.findByText(/dashboard api version not supported/)).toBeInTheDocument();
  await fill(user, screen.getByLabelText('Template panel ID'), '4');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody().jsonData.chart).toEqual({
    renderer: 'grafana',
    templateDashboardUid: 'v2dash',
    templatePanelId: 4,
  });
});

test('a disabled app can be enabled and saved in one go', async () => {
  const { user } = renderConfig({}, {}, false);
  expect(screen.getByText('The app is disabled')).toBeInTheDocument();
  // the backend does not answer for a disabled app: no health, no previews
  expect(screen.queryByText('Preview a chart')).not.toBeInTheDocument();
  expect(backend.calls.filter((c) => c.url.includes('/resources/'))).toHaveLength(0);
  await user.click(screen.getByRole('button', { name: 'Enable and save' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody()).toMatchObject({ enabled: true, pinned: true });
});

test('Chinese UI when Grafana’s language is zh-Hans', async () => {
  setLanguage('zh-Hans');
  const { user } = renderConfig(saved, secure);
  expect(screen.getByRole('button', { name: '保存设置' })).toBeInTheDocument();
  expect(screen.getByText('通知渠道')).toBeInTheDocument();
  const width = document.getElementById('ac-chart-width')!;
  await user.clear(width);
  await fill(user, width, '50');
  expect(screen.getByText('必须在 200 到 4000 之间，而不是 50')).toBeInTheDocument();
});

test('the backend’s health (its verdict on the saved settings) is shown', async () => {
  backend.on('GET', `${RESOURCES}/health`, {
    data: {
      status: 'error',
      message: 'settings are invalid',
      checks: [
        {
          name: 'settings',
          status: 'error',
          message: 'invalid settings: chart.width: must be between 200 and 4000, not 50',
        },
      ],
    },
  });
  renderConfig(saved, secure);
  expect(await screen.findByText('AlertChart is not working')).toBeInTheDocument();
  expect(screen.getByText(/chart\.width: must be between 200 and 4000, not 50/)).toBeInTheDocument();
});

test('advanced settings are folded away; opened, their edits are saved', async () => {
  const { user } = renderConfig({}, {});
  expect(document.getElementById('ac-max-body')).toBeNull();
  const toggles = screen.getAllByRole('button', { name: 'Advanced' });
  await user.click(toggles[toggles.length - 1]);
  await fill(user, document.getElementById('ac-max-body')!, '2097152');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody()).toMatchObject({ jsonData: { webhook: { maxBodyBytes: 2097152 } } });
});

test('Alertmanager: the allowed logins, the webhook token and the Silence link base are saved', async () => {
  const { user } = renderConfig({}, {});
  expect(screen.getByLabelText(/^Allowed Grafana logins/)).toHaveAttribute('placeholder', 'sa-1-alertmanager');
  await fill(user, screen.getByLabelText(/^Allowed Grafana logins/), 'sa-1-alertmanager, sa-1-grafana-alerting');
  await fill(user, document.getElementById('ac-webhook-token')!, 'intake-secret');
  await fill(user, screen.getByLabelText(/^Alertmanager URL for Silence links/), 'https://am.example.com');
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  await waitFor(() => expect(reloadPage).toHaveBeenCalled());
  expect(savedBody()).toMatchObject({
    jsonData: {
      webhook: { allowedUsers: ['sa-1-alertmanager', 'sa-1-grafana-alerting'] },
      alertmanager: { url: 'https://am.example.com' },
    },
    secureJsonData: { webhookToken: 'intake-secret' },
  });
});

test('Alertmanager: a Silence link base that is not an http(s) URL, and a provisioned login with spaces, block saving', async () => {
  const { user } = renderConfig({ webhook: { allowedUsers: [' sa-1-alertmanager'] } }, {});
  await fill(user, screen.getByLabelText(/^Alertmanager URL for Silence links/), 'alertmanager:9093');
  expect(screen.getByText('must be an http:// or https:// URL')).toBeInTheDocument();
  await user.click(screen.getByRole('button', { name: 'Save settings' }));
  const summary = await screen.findByText('Fix 2 problem(s) before saving');
  const box = summary.closest('[role=alert]') as HTMLElement;
  expect(within(box).getByText('alertmanager.url')).toBeInTheDocument();
  expect(within(box).getByText('webhook.allowedUsers[0]')).toBeInTheDocument();
  expect(backend.callsTo('POST', SETTINGS_URL)).toHaveLength(0);
});
