import React from 'react';
import { render as rtlRender, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import userEvent from '@testing-library/user-event';
import { backend, config, setLanguage } from '../test/runtime';
import { RESOURCES } from '../test/render';
import GettingStarted, { alertmanagerSnippet } from './GettingStarted';

// Grafana renders app pages inside its router; TextLink needs one.
const render = (ui: React.ReactElement) => rtlRender(<MemoryRouter>{ui}</MemoryRouter>);

beforeEach(() => {
  backend.reset();
  setLanguage('en-US');
  config.appUrl = 'https://grafana.example.com/';
  config.appSubUrl = '';
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
  render(<GettingStarted />);
  expect(await screen.findByText('AlertChart works with warnings')).toBeInTheDocument();
  expect(screen.getByText('1 of 3 checks need attention')).toBeInTheDocument();
  expect(screen.getByText(/not configured; DingTalk charts go as links/)).toBeInTheDocument();
});

test('an unreachable backend is reported', async () => {
  backend.on('GET', `${RESOURCES}/health`, { status: 500, data: { message: 'plugin unavailable' } });
  render(<GettingStarted />);
  expect(await screen.findByText('The plugin backend did not answer')).toBeInTheDocument();
  expect(screen.getByText('plugin unavailable (HTTP 500)')).toBeInTheDocument();
});

test('the webhook_config snippet carries the resource URL for the receiver typed', async () => {
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'ok', message: '' } });
  const user = userEvent.setup({ delay: null });
  render(<GettingStarted />);
  const snippet = screen.getByTestId('am-snippet');
  expect(snippet).toHaveTextContent(
    'url: https://grafana.example.com/api/plugins/alertchart-webhook-app/resources/webhook/alertchart'
  );
  const input = screen.getByLabelText(/^Receiver name/);
  await user.clear(input);
  await user.paste('team ops');
  expect(snippet.textContent).toContain('- name: "team ops"');
  expect(snippet.textContent).toContain(
    'url: "https://grafana.example.com/api/plugins/alertchart-webhook-app/resources/webhook/team%20ops"'
  );
  expect(snippet.textContent).toContain('type: Bearer');
  expect(screen.getByRole('button', { name: 'Copy' })).toBeInTheDocument();
  expect(await screen.findByText('AlertChart is working')).toBeInTheDocument();
});

test('without root_url the browser origin and sub path are used', () => {
  config.appUrl = '';
  config.appSubUrl = '/grafana';
  expect(alertmanagerSnippet('ops')).toContain(
    `url: ${window.location.origin}/grafana/api/plugins/alertchart-webhook-app/resources/webhook/ops`
  );
});

test('Chinese instructions', async () => {
  setLanguage('zh-Hans');
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'error', message: 'no channels' } });
  render(<GettingStarted />);
  expect(await screen.findByText('AlertChart 无法工作')).toBeInTheDocument();
  expect(screen.getByText('2. 创建 Bearer 令牌')).toBeInTheDocument();
});
