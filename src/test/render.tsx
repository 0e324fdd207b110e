import React from 'react';
import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import userEvent from '@testing-library/user-event';
import { PluginType } from '@grafana/data';
import AppConfig, { AppConfigProps } from '../components/AppConfig/AppConfig';
import { JsonData } from '../settings/model';

export const SETTINGS_URL = '/api/plugins/alertchart-webhook-app/settings';
export const RESOURCES = '/api/plugins/alertchart-webhook-app/resources';

/** Renders the config page with plugin meta shaped like Grafana's GET /api/plugins/<id>/settings. */
export function renderConfig(jsonData: JsonData = {}, secureJsonFields: Record<string, boolean> = {}, enabled = true) {
  const props = {
    plugin: {
      meta: {
        id: 'alertchart-webhook-app',
        name: 'AlertChart',
        type: PluginType.app,
        enabled,
        pinned: enabled,
        jsonData,
        secureJsonFields,
      },
    },
    query: {},
  } as unknown as AppConfigProps;
  const user = userEvent.setup({ delay: null });
  // Grafana renders the config page inside its router (TextLink needs one).
  return {
    user,
    ...render(
      <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <AppConfig {...props} />
      </MemoryRouter>
    ),
  };
}

/** Picks an option of a Grafana Combobox by its visible label. */
export async function pickOption(user: ReturnType<typeof userEvent.setup>, input: HTMLElement, label: RegExp | string) {
  await user.click(input);
  await user.click(await screen.findByRole('option', { name: label }));
}

/** Types text in one input event (fast; what a paste does). */
export async function fill(user: ReturnType<typeof userEvent.setup>, input: HTMLElement, text: string) {
  await user.click(input);
  await user.paste(text);
}

/** The Reset button SecretInput shows next to a configured secret. */
export function resetButtonFor(input: HTMLElement): HTMLElement {
  let el: HTMLElement | null = input;
  for (let i = 0; el && i < 5; i++, el = el.parentElement) {
    const b = within(el).queryByRole('button', { name: 'Reset' });
    if (b) {
      return b;
    }
  }
  throw new Error('no Reset button near the secret input');
}
