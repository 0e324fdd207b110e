import { screen, waitFor, within } from '@testing-library/react';
import { backend, setLanguage } from '../../test/runtime';
import { RESOURCES, fill, pickOption, renderConfig } from '../../test/render';
import { parsePaste, payloadFor } from './PreviewSection';

jest.mock('../../utils/reload', () => ({ reloadPage: jest.fn() }));

const saved = { channels: [{ name: 'ops-ding', type: 'dingtalk' }] };
const secure = { 'channels.ops-ding.url': true };

const firing = {
  status: 'firing',
  labels: { alertname: 'HighCPU', instance: 'node1:9100', severity: 'critical' },
  annotations: { summary: 'CPU above 90%' },
  startsAt: '2026-11-25T02:20:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph?g0.expr=cpu_usage+%3E+0.9',
  fingerprint: 'abc123',
};

const plan = {
  alert: { name: 'HighCPU', status: 'firing', labels: firing.labels },
  rule: { name: 'HighCPU', expr: 'cpu_usage > 0.9', for: '5m0s' },
  source: 'rules-api',
  expr: 'cpu_usage > 0.9',
  query: 'cpu_usage{instance="node1:9100"}',
  injectedLabels: { instance: 'node1:9100' },
  start: '2026-11-25T02:05:00Z',
  end: '2026-11-25T02:25:00Z',
  step: '15s',
  window: '10m0s',
  title: 'HighCPU',
  timezone: 'UTC',
  language: 'en',
  fallbacks: ['rule has no for; used chart.minWindow'],
};

beforeEach(() => {
  backend.reset();
  setLanguage('en-US');
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'ok', message: 'settings are valid' } });
  backend.on('GET', `${RESOURCES}/recent`, {
    data: { alerts: [{ receiver: 'ops', receivedAt: '2026-11-25T02:21:00Z', alert: firing }] },
  });
});

async function openChannel(user: ReturnType<typeof renderConfig>['user']) {
  await user.click(screen.getByRole('button', { name: /ops-ding/ }));
}

describe('Send test notification', () => {
  test('shows the platform’s answer when it accepts', async () => {
    backend.on('POST', `${RESOURCES}/channels/ops-ding/test`, {
      data: { ok: true, result: { statusCode: 200, body: '{"errcode":0,"errmsg":"ok"}', requests: 2, note: '' } },
    });
    const { user } = renderConfig(saved, secure);
    await openChannel(user);
    await user.click(screen.getByRole('button', { name: 'Send test notification' }));
    const ok = await screen.findByText('The platform accepted the test message');
    const box = ok.closest('[data-testid]') ?? ok.parentElement!.parentElement!;
    expect(within(box as HTMLElement).getByText('HTTP status: 200')).toBeInTheDocument();
    expect(within(box as HTMLElement).getByText('Requests: 2')).toBeInTheDocument();
    expect(within(box as HTMLElement).getByText('{"errcode":0,"errmsg":"ok"}')).toBeInTheDocument();
    expect(backend.callsTo('POST', `${RESOURCES}/channels/ops-ding/test`)).toHaveLength(1);
  });

  test('shows the classified error when the platform refuses', async () => {
    backend.on('POST', `${RESOURCES}/channels/ops-ding/test`, {
      data: {
        ok: false,
        error: 'bad credentials: sign not match (HTTP 200, code 310000)',
        kind: 'bad_credentials',
        result: { statusCode: 200, body: '{"errcode":310000,"errmsg":"sign not match"}', requests: 1 },
      },
    });
    const { user } = renderConfig(saved, secure);
    await openChannel(user);
    await user.click(screen.getByRole('button', { name: 'Send test notification' }));
    expect(await screen.findByText('The platform refused the test message (bad_credentials)')).toBeInTheDocument();
    expect(screen.getByText('bad credentials: sign not match (HTTP 200, code 310000)')).toBeInTheDocument();
    expect(screen.getByText('{"errcode":310000,"errmsg":"sign not match"}')).toBeInTheDocument();
  });

  test('a channel missing from the saved settings (404) says to save first', async () => {
    backend.on('POST', `${RESOURCES}/channels/ops-ding/test`, {
      status: 404,
      data: { error: 'unknown channel "ops-ding"' },
    });
    const { user } = renderConfig(saved, secure);
    await openChannel(user);
    await user.click(screen.getByRole('button', { name: 'Send test notification' }));
    expect(
      await screen.findByText('The saved settings have no channel named "ops-ding". Save first.')
    ).toBeInTheDocument();
  });

  test('a backend failure shows its error text', async () => {
    backend.on('POST', `${RESOURCES}/channels/ops-ding/test`, {
      status: 503,
      data: { error: 'delivery queue unavailable' },
    });
    const { user } = renderConfig(saved, secure);
    await openChannel(user);
    await user.click(screen.getByRole('button', { name: 'Send test notification' }));
    expect(await screen.findByText('delivery queue unavailable (HTTP 503)')).toBeInTheDocument();
  });

  test('with unsaved edits the test says it uses the saved channel', async () => {
    const { user } = renderConfig(saved, secure);
    await openChannel(user);
    await fill(user, document.getElementById('ac-ch-0-mentionLabel')!, 'oncall');
    expect(screen.getByText('Uses the saved settings of "ops-ding"; save to test your changes.')).toBeInTheDocument();
  });
});

describe('Preview chart', () => {
  test('a recent alert: explain shows the plan, preview shows the image', async () => {
    backend.on('POST', `${RESOURCES}/explain`, { data: { plans: [plan] } });
    backend.on('POST', /\/resources\/preview\?index=0$/, {
      data: {
        plan,
        image: 'data:image/png;base64,iVBORw0KGgo=',
        renderer: 'native',
        fallbackReason: 'grafana renderer not installed',
        note: '3 of 14 series shown (chart.maxSeries)',
      },
    });
    const { user } = renderConfig(saved, secure);
    await pickOption(user, await screen.findByRole('combobox', { name: /^Recent alert/ }), /HighCPU node1:9100/);
    await user.click(screen.getByRole('button', { name: 'Preview chart' }));

    expect(await screen.findByAltText('Chart preview 1')).toHaveAttribute('src', 'data:image/png;base64,iVBORw0KGgo=');
    expect(screen.getByText('cpu_usage{instance="node1:9100"}')).toBeInTheDocument();
    expect(screen.getByText('instance="node1:9100"')).toBeInTheDocument();
    expect(screen.getByText('rule has no for; used chart.minWindow')).toBeInTheDocument();
    expect(screen.getByText('Renderer: native')).toBeInTheDocument();
    expect(screen.getByText('grafana renderer not installed')).toBeInTheDocument();
    expect(screen.getByText('3 of 14 series shown (chart.maxSeries)')).toBeInTheDocument();

    const [explain] = backend.callsTo('POST', `${RESOURCES}/explain`);
    expect(explain.data).toEqual(payloadFor('ops', [firing]));
    expect(explain.data).toMatchObject({ version: '4', receiver: 'ops', status: 'firing', alerts: [firing] });
    const [preview] = backend.calls.filter((c) => c.url.includes('/preview'));
    expect(preview.url).toBe(`${RESOURCES}/preview?index=0`);
    expect(preview.data).toEqual(explain.data);
  });

  test('pasted JSON that is not JSON or not an alert is refused before any call', async () => {
    backend.on('GET', `${RESOURCES}/recent`, { data: { alerts: [] } });
    const { user } = renderConfig(saved, secure);
    // with nothing received yet the page switches to pasting
    const box = await screen.findByLabelText(/^Webhook payload or alert JSON/);
    await fill(user, box, '{"alerts": [');
    await user.click(screen.getByRole('button', { name: 'Preview chart' }));
    expect(await screen.findByText(/^Not valid JSON:/)).toBeInTheDocument();
    await user.clear(box);
    await fill(user, box, '{"hello": 1}');
    await user.click(screen.getByRole('button', { name: 'Preview chart' }));
    expect(await screen.findByText(/Not an alert/)).toBeInTheDocument();
    expect(backend.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  test('a pasted alert is wrapped into a webhook payload; a render error is shown', async () => {
    backend.on('GET', `${RESOURCES}/recent`, { data: { alerts: [] } });
    backend.on('POST', `${RESOURCES}/explain`, { data: { plans: [plan] } });
    backend.on('POST', /\/resources\/preview\?index=0$/, {
      status: 503,
      data: { error: 'prometheus: connection refused' },
    });
    const { user } = renderConfig(saved, secure);
    await fill(user, await screen.findByLabelText(/^Webhook payload or alert JSON/), JSON.stringify(firing));
    await user.click(screen.getByRole('button', { name: 'Preview chart' }));
    expect(await screen.findByText('prometheus: connection refused (HTTP 503)')).toBeInTheDocument();
    const [explain] = backend.callsTo('POST', `${RESOURCES}/explain`);
    expect(explain.data).toMatchObject({ version: '4', receiver: 'preview', alerts: [firing] });
  });

  test('explain errors (400 not an Alertmanager payload) are shown', async () => {
    backend.on('GET', `${RESOURCES}/recent`, { data: { alerts: [] } });
    backend.on('POST', `${RESOURCES}/explain`, {
      status: 400,
      data: { error: 'not an Alertmanager payload: version must be "4"' },
    });
    const { user } = renderConfig(saved, secure);
    await fill(
      user,
      await screen.findByLabelText(/^Webhook payload or alert JSON/),
      JSON.stringify({ version: '3', alerts: [firing] })
    );
    await user.click(screen.getByRole('button', { name: 'Preview chart' }));
    expect(await screen.findByText('not an Alertmanager payload: version must be "4" (HTTP 400)')).toBeInTheDocument();
  });

  test('a plan without a chart says why and is not rendered', async () => {
    backend.on('POST', `${RESOURCES}/explain`, {
      data: { plans: [{ ...plan, query: '', noChartReason: 'no generatorURL and no matching rule' }] },
    });
    const { user } = renderConfig(saved, secure);
    await pickOption(user, await screen.findByRole('combobox', { name: /^Recent alert/ }), /HighCPU/);
    await user.click(screen.getByRole('button', { name: 'Preview chart' }));
    expect(await screen.findByText('no generatorURL and no matching rule')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByText('Working…')).not.toBeInTheDocument());
    expect(backend.calls.filter((c) => c.url.includes('/preview'))).toHaveLength(0);
  });
});

describe('parsePaste', () => {
  test('reads the array from Alertmanager’s /api/v2/alerts (status is an object there)', () => {
    const amAlert = { ...firing, status: { state: 'active', silencedBy: [], inhibitedBy: [] } };
    const p = parsePaste(JSON.stringify([amAlert]));
    expect(p.ok && p.payload.alerts[0].status).toBe('firing');
    expect(p.ok && p.payload.alerts).toHaveLength(1);
  });

  test('a webhook payload without alerts is refused', () => {
    expect(parsePaste('{"version":"4","alerts":[]}')).toEqual({ ok: false, error: 'The payload has no alerts.' });
  });
});
