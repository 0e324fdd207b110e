import React from 'react';
import { Field, FieldSet, RadioButtonGroup, Stack } from '@grafana/ui';
import { ChartSettings, DEFAULTS } from '../../settings/model';
import { t } from '../../i18n/i18n';
import { NumberField, TextField } from './fields';
import { SectionProps } from './types';

const durationText = (v: string | number | undefined) => (v === undefined ? undefined : String(v));

/** Chart defaults: window, size, look and language. */
export function ChartSection({ draft, update, issue }: SectionProps) {
  const c = draft.json.chart ?? {};
  const set = (patch: Partial<ChartSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, chart: { ...d.json.chart, ...patch } } }));

  return (
    <FieldSet label={t('chart.title')}>
      <Stack gap={2} wrap="wrap">
        <NumberField
          id="ac-chart-multiplier"
          label={t('chart.windowMultiplier')}
          description={t('chart.windowMultiplier.desc')}
          step={0.5}
          placeholder={String(DEFAULTS.windowMultiplier)}
          value={c.windowMultiplier}
          error={issue('chart.windowMultiplier')}
          onChange={(v) => set({ windowMultiplier: v })}
        />
        <TextField
          id="ac-chart-min-window"
          width={15}
          label={t('chart.minWindow')}
          placeholder={DEFAULTS.minWindow}
          value={durationText(c.minWindow)}
          error={issue('chart.minWindow')}
          onChange={(v) => set({ minWindow: v.trim() || undefined })}
        />
        <TextField
          id="ac-chart-max-window"
          width={15}
          label={t('chart.maxWindow')}
          placeholder={DEFAULTS.maxWindow}
          value={durationText(c.maxWindow)}
          error={issue('chart.maxWindow')}
          onChange={(v) => set({ maxWindow: v.trim() || undefined })}
        />
        <TextField
          id="ac-chart-budget"
          width={15}
          label={t('chart.budget')}
          description={t('chart.budget.desc')}
          placeholder={DEFAULTS.budget}
          value={durationText(c.budget)}
          error={issue('chart.budget')}
          onChange={(v) => set({ budget: v.trim() || undefined })}
        />
      </Stack>
      <Stack gap={2} wrap="wrap">
        <NumberField
          id="ac-chart-width"
          label={t('chart.width')}
          placeholder={String(DEFAULTS.width)}
          value={c.width}
          error={issue('chart.width')}
          onChange={(v) => set({ width: v })}
        />
        <NumberField
          id="ac-chart-height"
          label={t('chart.height')}
          placeholder={String(DEFAULTS.height)}
          value={c.height}
          error={issue('chart.height')}
          onChange={(v) => set({ height: v })}
        />
        <NumberField
          id="ac-chart-pixel-ratio"
          label={t('chart.pixelRatio')}
          step={0.5}
          placeholder={String(DEFAULTS.pixelRatio)}
          value={c.pixelRatio}
          error={issue('chart.pixelRatio')}
          onChange={(v) => set({ pixelRatio: v })}
        />
        <NumberField
          id="ac-chart-max-series"
          label={t('chart.maxSeries')}
          placeholder={String(DEFAULTS.maxSeries)}
          value={c.maxSeries}
          error={issue('chart.maxSeries')}
          onChange={(v) => set({ maxSeries: v })}
        />
      </Stack>
      <Stack gap={2} wrap="wrap">
        <Field label={t('chart.theme')} invalid={Boolean(issue('chart.theme'))} error={issue('chart.theme')}>
          <RadioButtonGroup
            options={[
              { label: t('chart.theme.dark'), value: 'dark' },
              { label: t('chart.theme.light'), value: 'light' },
            ]}
            value={c.theme || DEFAULTS.theme}
            onChange={(v) => set({ theme: v })}
          />
        </Field>
        <Field label={t('chart.language')} invalid={Boolean(issue('chart.language'))} error={issue('chart.language')}>
          <RadioButtonGroup
            options={[
              { label: '中文', value: 'zh' },
              { label: 'English', value: 'en' },
            ]}
            value={c.language || DEFAULTS.language}
            onChange={(v) => set({ language: v })}
          />
        </Field>
      </Stack>
      <TextField
        id="ac-chart-timezone"
        width={30}
        label={t('chart.timezone')}
        description={t('chart.timezone.desc')}
        placeholder={DEFAULTS.timezone}
        value={c.timezone}
        error={issue('chart.timezone')}
        onChange={(v) => set({ timezone: v.trim() || undefined })}
      />
      <TextField
        id="ac-chart-legend"
        label={t('chart.legendFormat')}
        description={t('chart.legendFormat.desc')}
        placeholder="{{instance}}"
        value={c.legendFormat}
        onChange={(v) => set({ legendFormat: v || undefined })}
      />
    </FieldSet>
  );
}
