import React from 'react';
import { render, screen } from '@testing-library/react';
import { backend, setLanguage } from '../test/runtime';
import { RESOURCES } from '../test/render';
import { HealthBanner } from './HealthBanner';

const health = {
  status: 'warning',
  message: 'Image renderer: Grafana has no image renderer: install …',
  checks: [
    { name: 'settings', status: 'ok', message: 'settings are valid', code: 'settings.valid', args: {} },
    {
      name: 'Template panel',
      status: 'skipped',
      message: 'no template configured (chart.templateDashboardUid and chart.templatePanelId)',
      code: 'grafana.template_not_configured',
    },
    {
      name: 'Image renderer',
      status: 'warning',
      message: 'Grafana has no image renderer: install …',
      code: 'grafana.renderer_missing',
    },
    { name: 'channel ops', status: 'error', message: 'wecom: url is required', code: 'channel.future_code' },
  ],
};

beforeEach(() => {
  backend.reset();
  backend.on('GET', `${RESOURCES}/health`, { data: health });
});

test('in Chinese every check shows its name, status and code in Chinese; an unknown code shows the message', async () => {
  setLanguage('zh-Hans');
  render(<HealthBanner />);
  expect(await screen.findByText('AlertChart 可用，但有警告')).toBeInTheDocument();
  const lines = screen.getAllByTestId('health-check');
  expect(lines.map((l) => l.textContent)).toEqual([
    '设置（正常）：设置有效',
    '模板面板（已跳过）：未配置模板（chart.templateDashboardUid 和 chart.templatePanelId）',
    expect.stringMatching(/^图片渲染器（警告）：Grafana 没有图片渲染器/),
    '渠道 ops（错误）：wecom: url is required',
  ]);
  expect(lines.map((l) => l.getAttribute('data-translated'))).toEqual(['true', 'true', 'true', 'false']);
  // The backend's English summary is not repeated in a Chinese UI.
  expect(screen.queryByText(/install …/)).not.toBeInTheDocument();
});

test('a skipped check says "skipped", never its message id', async () => {
  setLanguage('en-US');
  render(<HealthBanner />);
  expect(await screen.findByText('AlertChart works with warnings')).toBeInTheDocument();
  expect(screen.getByText('(skipped)')).toBeInTheDocument();
  expect(document.body.textContent).not.toMatch(/health\.check/);
});

test('checks from a backend without codes show its messages', async () => {
  setLanguage('en-US');
  backend.on('GET', `${RESOURCES}/health`, {
    data: { status: 'ok', message: 'AlertChart is ready', checks: [{ name: 'queue', status: 'ok', message: 'open' }] },
  });
  render(<HealthBanner />);
  expect(await screen.findByText(/: open$/)).toBeInTheDocument();
  expect(screen.getByText('Delivery queue')).toBeInTheDocument();
});

test('the restricted report a non-admin gets is its status and a note, in the user’s language', async () => {
  setLanguage('zh-Hans');
  backend.on('GET', `${RESOURCES}/health`, {
    data: {
      status: 'warning',
      message: 'AlertChart works with warnings; an administrator can see the details on the configuration page',
      code: 'summary.restricted_warning',
      args: {},
      checks: [],
      detailed: false,
    },
  });
  render(<HealthBanner />);
  expect(await screen.findByText('AlertChart 可用，但有警告')).toBeInTheDocument();
  expect(screen.getByTestId('health-restricted')).toHaveTextContent('管理员可以在配置页面查看每项检查的详情。');
  // The restricted summary would only repeat the title.
  expect(screen.queryByText(/管理员可在配置页面查看详情/)).not.toBeInTheDocument();
  setLanguage('en-US');
});

test('a non-admin’s report of a working plugin says an administrator sees the details', async () => {
  setLanguage('en-US');
  backend.on('GET', `${RESOURCES}/health`, {
    data: {
      status: 'ok',
      message: 'AlertChart is ready',
      code: 'summary.ready',
      args: {},
      checks: [],
      detailed: false,
    },
  });
  render(<HealthBanner />);
  expect(await screen.findByText('AlertChart is working')).toBeInTheDocument();
  expect(screen.getByTestId('health-restricted')).toHaveTextContent(
    'An administrator sees the details of every check on the configuration page.'
  );
  expect(screen.getByTestId('health-banner')).toHaveAttribute('data-detailed', 'false');
  expect(screen.queryByTestId('health-check')).not.toBeInTheDocument();
  expect(screen.queryByText('AlertChart is ready')).not.toBeInTheDocument();
});

test('a non-admin’s report of an error: the status and the note, no checks', async () => {
  setLanguage('zh-Hans');
  backend.on('GET', `${RESOURCES}/health`, {
    data: {
      status: 'error',
      message: 'AlertChart has a problem; an administrator can see the details on the configuration page',
      code: 'summary.restricted_error',
      args: {},
      checks: [],
      detailed: false,
    },
  });
  render(<HealthBanner />);
  expect(await screen.findByText('AlertChart 无法工作')).toBeInTheDocument();
  expect(screen.getByTestId('health-restricted')).toHaveTextContent('管理员可以在配置页面查看每项检查的详情。');
  expect(screen.queryByTestId('health-check')).not.toBeInTheDocument();
  setLanguage('en-US');
});
