import React from 'react';
import { DataSourcePicker } from '@grafana/runtime';
import { Button, Field, FieldSet, IconButton, InlineSwitch, Input, RadioButtonGroup, Stack, Switch } from '@grafana/ui';
import { HeaderDraft, newKey } from '../../settings/draft';
import { DEFAULTS, PrometheusSettings } from '../../settings/model';
import { t } from '../../i18n/i18n';
import { Advanced, ListField, SecretField, TextField } from './fields';
import { SectionProps } from './types';

type Mode = 'datasource' | 'url';

/** Where chart data and alerting rules come from. */
export function DataSourceSection({ draft, update, issue }: SectionProps) {
  const prom = draft.json.prometheus ?? {};
  const [mode, setMode] = React.useState<Mode>(prom.url ? 'url' : 'datasource');

  const set = (patch: Partial<PrometheusSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, prometheus: { ...d.json.prometheus, ...patch } } }));
  const setHeaders = (change: (h: HeaderDraft[]) => HeaderDraft[]) =>
    update((d) => ({ ...d, headers: change(d.headers) }));
  const setHeader = (key: string, patch: Partial<HeaderDraft>) =>
    setHeaders((hs) => hs.map((h) => (h.key === key ? { ...h, ...patch } : h)));

  const switchMode = (m: Mode) => {
    setMode(m);
    // The backend uses the URL whenever it is set, so a data source choice must clear it (and the other way round).
    set(m === 'datasource' ? { url: undefined } : { datasourceUid: undefined });
  };

  return (
    <FieldSet label={t('ds.title')}>
      <Field label={t('ds.mode')}>
        <RadioButtonGroup<Mode>
          options={[
            { label: t('ds.mode.datasource'), value: 'datasource' },
            { label: t('ds.mode.url'), value: 'url' },
          ]}
          value={mode}
          onChange={switchMode}
        />
      </Field>

      {mode === 'datasource' && (
        <Field label={t('ds.datasource')} description={t('ds.datasource.desc')}>
          <DataSourcePicker
            inputId="ac-prometheus-datasource"
            type="prometheus"
            current={prom.datasourceUid ?? null}
            noDefault
            width={50}
            onChange={(ds) => set({ datasourceUid: ds.uid })}
            onClear={() => set({ datasourceUid: undefined })}
          />
        </Field>
      )}

      {mode === 'url' && (
        <>
          <TextField
            id="ac-prometheus-url"
            label={t('ds.url')}
            description={t('ds.url.desc')}
            placeholder="http://prometheus:9090"
            value={prom.url}
            error={issue('prometheus.url')}
            onChange={(v) => set({ url: v.trim() || undefined })}
          />
          <TextField
            id="ac-prometheus-basic-user"
            label={t('ds.basicUser')}
            value={prom.basicAuthUser}
            onChange={(v) => set({ basicAuthUser: v || undefined })}
          />
          <SecretField
            id="ac-prometheus-password"
            label={t('ds.basicPassword')}
            state={draft.secrets.prometheusPassword}
            onChange={(s) => update((d) => ({ ...d, secrets: { ...d.secrets, prometheusPassword: s } }))}
          />
          <SecretField
            id="ac-prometheus-token"
            label={t('ds.token')}
            description={t('ds.token.desc')}
            state={draft.secrets.prometheusToken}
            onChange={(s) => update((d) => ({ ...d, secrets: { ...d.secrets, prometheusToken: s } }))}
          />
          <Field label={t('ds.headers')} description={t('ds.headers.desc')}>
            <Stack direction="column" gap={1}>
              {draft.headers.map((h, i) => (
                <Stack key={h.key} gap={1} alignItems="center">
                  <Input
                    aria-label={t('ds.header.name', { n: i + 1 })}
                    width={25}
                    placeholder="X-Scope-OrgID"
                    value={h.name}
                    onChange={(e) => setHeader(h.key, { name: e.currentTarget.value })}
                  />
                  {h.secret && h.configured && h.originalName === h.name.trim() ? (
                    <Stack gap={1}>
                      <Input
                        aria-label={t('ds.header.value', { n: i + 1 })}
                        width={25}
                        disabled
                        value={t('secret.configured')}
                      />
                      <Button variant="secondary" onClick={() => setHeader(h.key, { configured: false, value: '' })}>
                        {t('secret.reset')}
                      </Button>
                    </Stack>
                  ) : (
                    <Input
                      aria-label={t('ds.header.value', { n: i + 1 })}
                      width={25}
                      type={h.secret ? 'password' : 'text'}
                      value={h.value}
                      onChange={(e) => setHeader(h.key, { value: e.currentTarget.value })}
                    />
                  )}
                  <InlineSwitch
                    showLabel
                    label={t('ds.header.secret')}
                    aria-label={t('ds.header.secret.n', { n: i + 1 })}
                    value={h.secret}
                    onChange={(e) =>
                      setHeader(h.key, { secret: e.currentTarget.checked, configured: false, value: '' })
                    }
                  />
                  <IconButton
                    name="trash-alt"
                    tooltip={t('ds.header.remove', { n: i + 1 })}
                    onClick={() => setHeaders((hs) => hs.filter((x) => x.key !== h.key))}
                  />
                </Stack>
              ))}
              <div>
                <Button
                  variant="secondary"
                  icon="plus"
                  size="sm"
                  onClick={() =>
                    setHeaders((hs) => [
                      ...hs,
                      { key: newKey('h'), name: '', value: '', secret: false, configured: false, originalName: null },
                    ])
                  }
                >
                  {t('ds.header.add')}
                </Button>
              </div>
            </Stack>
          </Field>
          <Field label={t('ds.tlsSkipVerify')} description={t('ds.tlsSkipVerify.desc')}>
            <Switch
              id="ac-prometheus-tls-skip"
              value={Boolean(prom.tlsSkipVerify)}
              onChange={(e) => set({ tlsSkipVerify: e.currentTarget.checked || undefined })}
            />
          </Field>
        </>
      )}

      <Advanced
        forceOpen={['prometheus.timeout', 'prometheus.rulesCacheTtl', 'prometheus.scrapeInterval'].some((p) =>
          issue(p)
        )}
      >
        <TextField
          id="ac-prometheus-rules-url"
          label={t('ds.rulesUrl')}
          description={t('ds.rulesUrl.desc')}
          value={prom.rulesUrl}
          onChange={(v) => set({ rulesUrl: v.trim() || undefined })}
        />
        <Stack gap={2}>
          <TextField
            id="ac-prometheus-timeout"
            width={15}
            label={t('ds.timeout')}
            placeholder={DEFAULTS.timeout}
            value={prom.timeout === undefined ? undefined : String(prom.timeout)}
            error={issue('prometheus.timeout')}
            onChange={(v) => set({ timeout: v.trim() || undefined })}
          />
          <TextField
            id="ac-prometheus-rules-ttl"
            width={15}
            label={t('ds.rulesCacheTtl')}
            placeholder={DEFAULTS.rulesCacheTtl}
            value={prom.rulesCacheTtl === undefined ? undefined : String(prom.rulesCacheTtl)}
            error={issue('prometheus.rulesCacheTtl')}
            onChange={(v) => set({ rulesCacheTtl: v.trim() || undefined })}
          />
          <TextField
            id="ac-prometheus-scrape-interval"
            width={15}
            label={t('ds.scrapeInterval')}
            description={t('ds.scrapeInterval.desc')}
            placeholder="15s"
            value={prom.scrapeInterval === undefined ? undefined : String(prom.scrapeInterval)}
            error={issue('prometheus.scrapeInterval')}
            onChange={(v) => set({ scrapeInterval: v.trim() || undefined })}
          />
        </Stack>
        <ListField
          id="ac-prometheus-external-labels"
          label={t('ds.externalLabels')}
          description={t('ds.externalLabels.desc')}
          placeholder="cluster, replica"
          value={prom.externalLabels}
          onChange={(v) => set({ externalLabels: v })}
        />
      </Advanced>
    </FieldSet>
  );
}
