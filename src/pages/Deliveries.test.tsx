import React from 'react';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { backend, config, setLanguage } from '../test/runtime';
import { RESOURCES } from '../test/render';
import Deliveries, { Delivery } from './Deliveries';

const delivery: Delivery = {
  id: '01JDELIVERY1',
  receivedAt: '2026-11-25T02:30:00Z',
  receiver: 'ops',
  status: 'partial',
  groupKey: '{}:{alertname="HighCPU"}',
  alerts: [
    { fingerprint: 'fp1', alertname: 'HighCPU', status: 'firing', instance: 'node1:9100', severity: 'critical' },
  ],
  channels: [
    {
      channel: 'ops-wecom',
      type: 'wecom',
      status: 'sent',
      attempts: 1,
      lastError: '',
      textSentAt: '2026-11-25T02:30:00Z',
      chartSentAt: '2026-11-25T02:30:01Z',
      textLatencyMs: 12,
      chartLatencyMs: 140,
      renderer: 'native',
      fallbackReason: '',
      chartNote: '',
    },
    {
      channel: 'ops-ding',
      type: 'dingtalk',
      status: 'failed',
      attempts: 3,
      lastError: 'retryable: send too fast (HTTP 200, code 130101)',
      textSentAt: null,
      chartSentAt: null,
      textLatencyMs: null,
      chartLatencyMs: null,
      renderer: '',
      fallbackReason: '',
      chartNote: 'no image store configured',
    },
  ],
  hasChart: true,
};

const detail: Delivery = {
  ...delivery,
  resentFrom: '01JORIGINAL',
  attempts: [
    {
      channel: 'ops-wecom',
      part: 'both',
      at: '2026-11-25T02:30:00Z',
      ok: true,
      error: '',
      statusCode: 200,
      durationMs: 35,
    },
    {
      channel: 'ops-ding',
      part: 'text',
      at: '2026-11-25T02:30:00Z',
      ok: false,
      error: 'retryable: send too fast (HTTP 200, code 130101)',
      statusCode: 200,
      durationMs: 41,
    },
  ],
};

beforeEach(() => {
  backend.reset();
  setLanguage('en-US');
  config.appSubUrl = '';
  backend.on('GET', `${RESOURCES}/deliveries`, { data: { deliveries: [delivery] } });
  backend.on('GET', `${RESOURCES}/deliveries/01JDELIVERY1`, { data: detail });
});

const setup = () => {
  const user = userEvent.setup({ delay: null });
  render(<Deliveries />);
  return user;
};

test('lists notifications with per-channel status, timings, errors and a chart thumbnail', async () => {
  config.appSubUrl = '/grafana';
  setup();
  // The test id marks the row's first cell (InteractiveTable draws the rows); the row is its <tr>.
  const row = (await screen.findByTestId('delivery-01JDELIVERY1')).closest('tr')!;
  expect(within(row).getByText('ops')).toBeInTheDocument();
  expect(within(row).getByText('partial')).toBeInTheDocument();
  expect(within(row).getByText('text 12 ms')).toBeInTheDocument();
  expect(within(row).getByText('chart 140 ms')).toBeInTheDocument();
  expect(within(row).getByText('retryable: send too fast (HTTP 200, code 130101)')).toBeInTheDocument();
  expect(within(row).getByAltText('Chart of HighCPU')).toHaveAttribute(
    'src',
    '/grafana/api/plugins/alertchart-webhook-app/resources/deliveries/01JDELIVERY1/chart?fingerprint=fp1'
  );
  expect(backend.calls[0].url).toBe(`${RESOURCES}/deliveries?limit=50&status=&receiver=`);
});

test('filters by status and receiver through the query string', async () => {
  const user = setup();
  await screen.findByTestId('delivery-01JDELIVERY1');
  await user.click(screen.getByLabelText('failed'));
  await user.click(screen.getByLabelText('Receiver'));
  await user.paste('db');
  await waitFor(() =>
    expect(backend.calls.map((c) => c.url)).toContain(`${RESOURCES}/deliveries?limit=50&status=failed&receiver=db`)
  );
});

test('a missing chart (404) shows "no chart" instead of a broken image', async () => {
  setup();
  const img = await screen.findByAltText('Chart of HighCPU');
  fireEvent.error(img);
  expect(await screen.findByText('no chart')).toBeInTheDocument();
});

test('details list every channel and attempt; resend queues a new notification', async () => {
  backend.on('POST', `${RESOURCES}/deliveries/01JDELIVERY1/resend`, { data: { ok: true, id: '01JNEW' } });
  const user = setup();
  await screen.findByTestId('delivery-01JDELIVERY1');
  await user.click(screen.getByRole('button', { name: 'Details' }));
  const drawer = await screen.findByRole('dialog');
  expect(await within(drawer).findByText('no image store configured')).toBeInTheDocument();
  expect(within(drawer).getByText('35 ms')).toBeInTheDocument();
  expect(within(drawer).getByText('41 ms')).toBeInTheDocument();
  expect(within(drawer).getAllByText('retryable: send too fast (HTTP 200, code 130101)')).toHaveLength(2);
  expect(within(drawer).getByText('{}:{alertname="HighCPU"}')).toBeInTheDocument();
  expect(within(drawer).getByText('resent from 01JORIGINAL')).toBeInTheDocument();
  expect(within(drawer).queryByText(/null/)).not.toBeInTheDocument();

  const before = backend.callsTo('GET', `${RESOURCES}/deliveries`).length;
  await user.click(within(drawer).getByRole('button', { name: 'Resend' }));
  expect(await within(drawer).findByText('New notification 01JNEW.')).toBeInTheDocument();
  expect(backend.callsTo('POST', `${RESOURCES}/deliveries/01JDELIVERY1/resend`)).toHaveLength(1);
  // the list is reloaded to show the new notification
  await waitFor(() => expect(backend.callsTo('GET', `${RESOURCES}/deliveries`).length).toBe(before + 1));
});

test('resend of a notification past retention (404) says so', async () => {
  backend.on('POST', `${RESOURCES}/deliveries/01JDELIVERY1/resend`, {
    status: 404,
    data: { error: 'no such delivery' },
  });
  const user = setup();
  await screen.findByTestId('delivery-01JDELIVERY1');
  await user.click(screen.getByRole('button', { name: 'Details' }));
  const drawer = await screen.findByRole('dialog');
  await user.click(await within(drawer).findByRole('button', { name: 'Resend' }));
  expect(
    await within(drawer).findByText('This notification no longer exists (past the retention time?).')
  ).toBeInTheDocument();
});

test('load errors and the empty state are explained', async () => {
  backend.on('GET', `${RESOURCES}/deliveries`, { status: 503, data: { error: 'delivery store unavailable' } });
  setup();
  expect(await screen.findByText('delivery store unavailable (HTTP 503)')).toBeInTheDocument();
});

test('empty history', async () => {
  backend.on('GET', `${RESOURCES}/deliveries`, { data: { deliveries: [] } });
  setup();
  expect(await screen.findByText('No notifications yet')).toBeInTheDocument();
});

test('Chinese labels', async () => {
  setLanguage('zh-Hans');
  setup();
  const row = (await screen.findByTestId('delivery-01JDELIVERY1')).closest('tr')!;
  expect(within(row).getByText('部分成功')).toBeInTheDocument();
  expect(screen.getByRole('button', { name: '详情' })).toBeInTheDocument();
});

test('a Viewer is told in words that the records need the Editor role', async () => {
  backend.on('GET', `${RESOURCES}/deliveries`, {
    status: 403,
    data: {
      error: 'GET /deliveries needs the Editor role; the caller is viewer (Viewer)',
      requiredRole: 'Editor',
    },
  });
  setup();
  const denied = await screen.findByTestId('access-denied');
  expect(denied).toHaveTextContent('Not allowed');
  expect(denied).toHaveTextContent(
    'This needs the Editor role in this organisation; ask a Grafana administrator for it.'
  );
  // Neither the backend's English nor a raw error, and no filters that could not work.
  expect(screen.queryByText(/the caller is viewer/)).not.toBeInTheDocument();
  expect(screen.queryByText('Could not load deliveries')).not.toBeInTheDocument();
  expect(screen.queryByRole('button', { name: 'Refresh' })).not.toBeInTheDocument();
});

test('a Viewer in Chinese', async () => {
  setLanguage('zh-Hans');
  backend.on('GET', `${RESOURCES}/deliveries`, {
    status: 403,
    data: { error: 'GET /deliveries needs the Editor role; the caller is viewer (Viewer)', requiredRole: 'Editor' },
  });
  setup();
  expect(await screen.findByTestId('access-denied')).toHaveTextContent('需要本组织的编辑者（Editor）角色');
});
