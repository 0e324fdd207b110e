import React from 'react';
import { config } from '@grafana/runtime';
import { FieldSet, TextLink } from '@grafana/ui';
import { AlertmanagerSettings, WebhookSettings } from '../../settings/model';
import { t } from '../../i18n/i18n';
import { PLUGIN_BASE_URL } from '../../constants';
import { serviceAccountLogin } from '../../settings/identity';
import { ListField, SecretField, TextField } from './fields';
import { SectionProps } from './types';

/** The organisation the signed-in user works in (Grafana's boot data), 1 when unknown. */
export function currentOrgId(): number {
  const c = config as unknown as { bootData?: { user?: { orgId?: number } } };
  const id = c.bootData?.user?.orgId;
  return typeof id === 'number' && id > 0 ? id : 1;
}

/**
 * Who Alertmanager is (the Grafana logins that may post webhooks, the
 * optional second secret) and where its Silence links point. Until
 * webhook.allowedUsers or the webhook token is set the webhook answers 503.
 */
export function AlertmanagerSection({ draft, update, issue }: SectionProps) {
  const w = draft.json.webhook ?? {};
  const am = draft.json.alertmanager ?? {};
  const setWebhook = (patch: Partial<WebhookSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, webhook: { ...d.json.webhook, ...patch } } }));
  const setAm = (patch: Partial<AlertmanagerSettings>) =>
    update((d) => ({ ...d, json: { ...d.json, alertmanager: { ...d.json.alertmanager, ...patch } } }));
  const usersIssue = (w.allowedUsers ?? []).map((_, i) => issue(`webhook.allowedUsers[${i}]`)).find(Boolean);
  const example = serviceAccountLogin(currentOrgId(), 'alertmanager');
  const base = config.appSubUrl ?? '';

  return (
    <FieldSet label={t('am.title')}>
      <p>
        {t('am.desc')}{' '}
        <TextLink href={`${base}${PLUGIN_BASE_URL}/start`} inline>
          {t('am.startLink')}
        </TextLink>
      </p>
      <ListField
        id="ac-webhook-allowed-users"
        label={t('am.allowedUsers')}
        description={t('am.allowedUsers.desc', { example })}
        placeholder={example}
        value={w.allowedUsers}
        error={usersIssue}
        onChange={(v) => setWebhook({ allowedUsers: v })}
      />
      <SecretField
        id="ac-webhook-token"
        label={t('webhook.token')}
        description={t('webhook.token.desc')}
        state={draft.secrets.webhookToken}
        onChange={(v) => update((d) => ({ ...d, secrets: { ...d.secrets, webhookToken: v } }))}
      />
      <TextField
        id="ac-alertmanager-url"
        label={t('am.url')}
        description={t('am.url.desc')}
        placeholder="https://alertmanager.example.com"
        value={am.url}
        error={issue('alertmanager.url')}
        onChange={(v) => setAm({ url: v.trim() || undefined })}
      />
    </FieldSet>
  );
}
