import React from 'react';
import { getBackendSrv } from '@grafana/runtime';
import { Alert, Combobox, ComboboxOption, Field, FieldSet, RadioButtonGroup, Stack } from '@grafana/ui';
import { errorMessage } from '../../api/resources';
import { useResource } from '../../api/useResource';
import { ChartSettings, DEFAULTS, GrafanaSettings } from '../../settings/model';
import { t } from '../../i18n/i18n';
import { Advanced, NumberField, SecretField, TextField } from './fields';
import { SectionProps } from './types';

/** One hit of Grafana's GET /api/search?type=dash-db. */
interface SearchHit {
  uid: string;
  title: string;
  folderTitle?: string;
}

/** A panel of a classic dashboard JSON (rows carry their collapsed panels). */
interface PanelJSON {
  id?: number;
  title?: string;
  type?: string;
  panels?: PanelJSON[];
}

/** Panels that can be cloned, including those inside collapsed rows. */
export function flattenPanels(panels: PanelJSON[] | undefined): Array<{ id: number; title: string; type: string }> {
  const out: Array<{ id: number; title: string; type: string }> = [];
  for (const p of panels ?? []) {
    if (p.type === 'row') {
      out.push(...flattenPanels(p.panels));
    } else if (typeof p.id === 'number') {
      out.push({ id: p.id, title: p.title ?? '', type: p.type ?? '' });
    }
  }
  return out;
}

export async function searchDashboards(query: string): Promise<Array<ComboboxOption<string>>> {
  const hits = await getBackendSrv().get<SearchHit[]>('/api/search', { type: 'dash-db', query, limit: 50 }, undefined, {
    showErrorAlert: false,
  });
  return hits.map((h) => ({ value: h.uid, label: h.title, description: h.folderTitle }));
}

/** Renderer choice, the template panel and how the plugin calls back into Grafana. */
export function RendererSection({ draft, update, issue }: SectionProps) {
  const chart = draft.json.chart ?? {};
  const grafana = draft.json.grafana ?? {};
  const uid = chart.templateDashboardUid;
  const [dashTitle, setDashTitle] = React.useState<string>('');
  // The template dashboard's panels (a classic JSON answer; a v2 dashboard fails and the panel ID is typed).
  const dash = useResource<{ dashboard?: { title?: string; panels?: PanelJSON[] } }>(
    uid ? `/api/dashboards/uid/${encodeURIComponent(uid)}` : null
  );
  const loadingPanels = Boolean(uid) && dash.loading;
  const panels: Array<ComboboxOption<number>> = React.useMemo(
    () =>
      flattenPanels(dash.data?.dashboard?.panels).map((p) => ({
        value: p.id,
        label: `${p.title || t('renderer.untitledPanel')} (#${p.id})`,
        description: p.type,
      })),
    [dash.data]
  );
  const panelsError = dash.error ? errorMessage(dash.error) : '';
  const currentTitle = dash.data ? (dash.data.dashboard?.title ?? uid) : '';

  const setChart = (patch: Partial<ChartSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, chart: { ...d.json.chart, ...patch } } }));
  const setGrafana = (patch: Partial<GrafanaSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, grafana: { ...d.json.grafana, ...patch } } }));

  const renderer = chart.renderer || DEFAULTS.renderer;
  const templateError = issue('chart.templateDashboardUid');

  return (
    <FieldSet label={t('renderer.title')}>
      <Field label={t('renderer.renderer')} description={t('renderer.renderer.desc')}>
        <RadioButtonGroup
          options={[
            { label: t('renderer.auto'), value: 'auto', description: t('renderer.auto.desc') },
            { label: t('renderer.native'), value: 'native', description: t('renderer.native.desc') },
            { label: t('renderer.grafana'), value: 'grafana', description: t('renderer.grafana.desc') },
          ]}
          value={renderer}
          onChange={(v) => setChart({ renderer: v })}
        />
      </Field>

      <Field
        label={t('renderer.dashboard')}
        description={t('renderer.dashboard.desc')}
        invalid={Boolean(templateError)}
        error={templateError}
      >
        <Combobox<string>
          id="ac-template-dashboard"
          width={50}
          isClearable
          placeholder={t('renderer.dashboard.placeholder')}
          options={searchDashboards}
          value={uid ? { value: uid, label: currentTitle || dashTitle || uid } : null}
          onChange={(o) => {
            setDashTitle(o?.label ?? '');
            setChart({ templateDashboardUid: o?.value || undefined, templatePanelId: undefined });
          }}
        />
      </Field>

      {uid && (
        <>
          {panelsError ? (
            <>
              <Alert severity="warning" title={t('renderer.panels.error')}>
                {panelsError}
              </Alert>
              <NumberField
                id="ac-template-panel-id"
                label={t('renderer.panelId')}
                value={chart.templatePanelId}
                onChange={(v) => setChart({ templatePanelId: v })}
              />
            </>
          ) : (
            <Field label={t('renderer.panel')} description={t('renderer.panel.desc')}>
              <Combobox<number>
                id="ac-template-panel"
                width={50}
                loading={loadingPanels}
                placeholder={t('renderer.panel.placeholder')}
                options={panels}
                value={chart.templatePanelId ?? null}
                onChange={(o) => setChart({ templatePanelId: o.value })}
              />
            </Field>
          )}
        </>
      )}

      <Advanced>
        <Stack gap={2}>
          <TextField
            id="ac-temp-folder"
            width={25}
            label={t('renderer.tempFolder')}
            placeholder={DEFAULTS.tempFolderUid}
            value={chart.tempFolderUid}
            onChange={(v) => setChart({ tempFolderUid: v.trim() || undefined })}
          />
          <NumberField
            id="ac-max-renders"
            label={t('renderer.maxRenders')}
            placeholder={String(DEFAULTS.maxGrafanaRenders)}
            value={chart.maxGrafanaRenders}
            onChange={(v) => setChart({ maxGrafanaRenders: v })}
          />
        </Stack>

        <TextField
          id="ac-grafana-url"
          label={t('grafana.url')}
          description={t('grafana.url.desc')}
          placeholder="http://grafana:3000"
          value={grafana.url}
          onChange={(v) => setGrafana({ url: v.trim() || undefined })}
        />
        <NumberField
          id="ac-grafana-org"
          label={t('grafana.orgId')}
          placeholder={String(DEFAULTS.orgId)}
          value={grafana.orgId}
          onChange={(v) => setGrafana({ orgId: v })}
        />
      </Advanced>
      <SecretField
        id="ac-grafana-token"
        label={t('grafana.token')}
        description={t('grafana.token.desc')}
        state={draft.secrets.grafanaToken}
        onChange={(s) => update((d) => ({ ...d, secrets: { ...d.secrets, grafanaToken: s } }))}
      />
    </FieldSet>
  );
}
