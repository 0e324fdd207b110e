import React from 'react';
import { Field, FieldSet, RadioButtonGroup, Stack, Switch } from '@grafana/ui';
import { DEFAULTS, DeliverySettings, ImageStoreSettings, WebhookSettings } from '../../settings/model';
import { t } from '../../i18n/i18n';
import { Advanced, NumberField, SecretField, TextField } from './fields';
import { SectionProps } from './types';

const text = (v: string | number | undefined) => (v === undefined ? undefined : String(v));

/** S3-compatible image hosting for platforms that only take a URL. */
export function ImageStoreSection({ draft, update, issue }: SectionProps) {
  const s = draft.json.imageStore ?? {};
  const set = (patch: Partial<ImageStoreSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, imageStore: { ...d.json.imageStore, ...patch } } }));
  return (
    <FieldSet label={t('img.title')}>
      <p>{t('img.desc')}</p>
      <TextField
        id="ac-img-endpoint"
        label={t('img.endpoint')}
        description={t('img.endpoint.desc')}
        placeholder="s3.amazonaws.com"
        value={s.endpoint}
        error={issue('imageStore.endpoint')}
        onChange={(v) => set({ endpoint: v.trim() || undefined })}
      />
      <Stack gap={2} wrap="wrap">
        <TextField
          id="ac-img-bucket"
          width={25}
          label={t('img.bucket')}
          value={s.bucket}
          error={issue('imageStore.bucket')}
          onChange={(v) => set({ bucket: v.trim() || undefined })}
        />
        <TextField
          id="ac-img-region"
          width={20}
          label={t('img.region')}
          placeholder="us-east-1"
          value={s.region}
          onChange={(v) => set({ region: v.trim() || undefined })}
        />
        <TextField
          id="ac-img-prefix"
          width={20}
          label={t('img.prefix')}
          placeholder="alertchart/"
          value={s.prefix}
          onChange={(v) => set({ prefix: v.trim() || undefined })}
        />
      </Stack>
      <SecretField
        id="ac-img-access"
        label={t('img.accessKey')}
        state={draft.secrets.imageStoreAccessKey}
        onChange={(v) => update((d) => ({ ...d, secrets: { ...d.secrets, imageStoreAccessKey: v } }))}
      />
      <SecretField
        id="ac-img-secret"
        label={t('img.secretKey')}
        state={draft.secrets.imageStoreSecretKey}
        onChange={(v) => update((d) => ({ ...d, secrets: { ...d.secrets, imageStoreSecretKey: v } }))}
      />
      <Stack gap={4}>
        <Field label={t('img.insecure')} description={t('img.insecure.desc')}>
          <Switch
            id="ac-img-insecure"
            value={Boolean(s.insecure)}
            onChange={(e) => set({ insecure: e.currentTarget.checked || undefined })}
          />
        </Field>
        <Field label={t('img.pathStyle')} description={t('img.pathStyle.desc')}>
          <Switch
            id="ac-img-path-style"
            value={Boolean(s.pathStyle)}
            onChange={(e) => set({ pathStyle: e.currentTarget.checked || undefined })}
          />
        </Field>
      </Stack>
      <TextField
        id="ac-img-presign"
        width={15}
        label={t('img.presignExpiry')}
        description={t('img.presignExpiry.desc')}
        placeholder={DEFAULTS.presignExpiry}
        value={text(s.presignExpiry)}
        error={issue('imageStore.presignExpiry')}
        onChange={(v) => set({ presignExpiry: v.trim() || undefined })}
      />
      <TextField
        id="ac-img-public"
        label={t('img.publicUrlPrefix')}
        description={t('img.publicUrlPrefix.desc')}
        placeholder="https://cdn.example.com/alertchart/"
        value={s.publicUrlPrefix}
        onChange={(v) => set({ publicUrlPrefix: v.trim() || undefined })}
      />
    </FieldSet>
  );
}

/** The durable delivery queue and webhook intake. */
export function DeliverySection({ draft, update, issue }: SectionProps) {
  const s = draft.json.delivery ?? {};
  const w = draft.json.webhook ?? {};
  const set = (patch: Partial<DeliverySettings>) =>
    update((d) => ({ ...d, json: { ...d.json, delivery: { ...d.json.delivery, ...patch } } }));
  const setWebhook = (patch: Partial<WebhookSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, webhook: { ...d.json.webhook, ...patch } } }));
  const queue = s.queue || DEFAULTS.queue;
  return (
    <FieldSet label={t('delivery.title')}>
      <Field
        label={t('delivery.queue')}
        description={t('delivery.queue.desc')}
        invalid={Boolean(issue('delivery.queue'))}
        error={issue('delivery.queue')}
      >
        <RadioButtonGroup
          options={[
            { label: 'SQLite', value: 'sqlite' },
            { label: 'PostgreSQL', value: 'postgres' },
          ]}
          value={queue}
          onChange={(v) => set({ queue: v })}
        />
      </Field>
      {queue === 'sqlite' && (
        <Field
          label={t('delivery.sync')}
          description={t('delivery.sync.desc')}
          invalid={Boolean(issue('delivery.sync'))}
          error={issue('delivery.sync')}
        >
          <RadioButtonGroup
            options={[
              { label: t('delivery.sync.normal'), value: 'normal' },
              { label: t('delivery.sync.full'), value: 'full' },
            ]}
            value={s.sync || DEFAULTS.sync}
            onChange={(v) => set({ sync: v === DEFAULTS.sync ? undefined : v })}
          />
        </Field>
      )}
      {queue === 'postgres' && (
        <SecretField
          id="ac-postgres-dsn"
          label={t('delivery.dsn')}
          description={t('delivery.dsn.desc')}
          placeholder="postgres://user:pass@host:5432/alertchart"
          state={draft.secrets.postgresDsn}
          error={issue('secureJsonData.postgresDsn')}
          onChange={(v) => update((d) => ({ ...d, secrets: { ...d.secrets, postgresDsn: v } }))}
        />
      )}
      <Stack gap={2} wrap="wrap">
        <TextField
          id="ac-dedupe"
          width={15}
          label={t('delivery.dedupe')}
          description={t('delivery.dedupe.desc')}
          placeholder={DEFAULTS.dedupeWindow}
          value={text(s.dedupeWindow)}
          error={issue('delivery.dedupeWindow')}
          onChange={(v) => set({ dedupeWindow: v.trim() || undefined })}
        />
        <TextField
          id="ac-retry"
          width={15}
          label={t('delivery.retry')}
          description={t('delivery.retry.desc')}
          placeholder={DEFAULTS.retryHorizon}
          value={text(s.retryHorizon)}
          error={issue('delivery.retryHorizon')}
          onChange={(v) => set({ retryHorizon: v.trim() || undefined })}
        />
        <TextField
          id="ac-retention"
          width={15}
          label={t('delivery.retention')}
          description={t('delivery.retention.desc')}
          placeholder={DEFAULTS.retention}
          value={text(s.retention)}
          error={issue('delivery.retention')}
          onChange={(v) => set({ retention: v.trim() || undefined })}
        />
      </Stack>
      <Advanced forceOpen={Boolean(issue('webhook.maxBodyBytes'))}>
        {queue === 'sqlite' && (
          <TextField
            id="ac-data-dir"
            label={t('delivery.dataDir')}
            description={t('delivery.dataDir.desc')}
            value={s.dataDir}
            onChange={(v) => set({ dataDir: v.trim() || undefined })}
          />
        )}
        <NumberField
          id="ac-max-body"
          width={20}
          label={t('webhook.maxBody')}
          placeholder={String(DEFAULTS.maxBodyBytes)}
          value={w.maxBodyBytes}
          error={issue('webhook.maxBodyBytes')}
          onChange={(v) => setWebhook({ maxBodyBytes: v })}
        />
      </Advanced>
    </FieldSet>
  );
}
