import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { AppRootProps } from '@grafana/data';
import { render, screen } from '@testing-library/react';
import { backend, setLanguage } from '../../test/runtime';
import { RESOURCES } from '../../test/render';
import App from './App';

beforeEach(() => {
  backend.reset();
  setLanguage('en-US');
  backend.on('GET', `${RESOURCES}/health`, { data: { status: 'ok', message: '' } });
  backend.on('GET', `${RESOURCES}/deliveries`, { data: { deliveries: [] } });
});

const renderAt = (path: string) =>
  render(
    <MemoryRouter initialEntries={[path]}>
      <App {...({} as AppRootProps)} />
    </MemoryRouter>
  );

test('start shows Getting started', async () => {
  renderAt('/start');
  expect(await screen.findByText('1. A service account for Alertmanager')).toBeInTheDocument();
});

test('deliveries shows the history', async () => {
  renderAt('/deliveries');
  expect(await screen.findByText('No notifications yet')).toBeInTheDocument();
});

test('unknown paths land on Getting started', async () => {
  renderAt('/nope');
  expect(await screen.findByText('1. A service account for Alertmanager')).toBeInTheDocument();
});
