import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { PluginPage, config } from '@grafana/runtime';
import { ClipboardButton, Field, Input, Stack, Text, TextLink, useStyles2 } from '@grafana/ui';
import { externalResourceUrl } from '../api/resources';
import { PLUGIN_ID } from '../constants';
import { HealthBanner } from '../components/HealthBanner';
import { t } from '../i18n/i18n';

/** The receiver name as the webhook path segment (Alertmanager receiver names may hold any character). */
export function webhookUrl(receiver: string): string {
  const r = receiver.trim();
  return externalResourceUrl(r ? `webhook/${encodeURIComponent(r)}` : 'webhook');
}

/** Alertmanager receiver config for the given receiver name. */
export function alertmanagerSnippet(receiver: string): string {
  const name = receiver.trim() || 'alertchart';
  return [
    'receivers:',
    `  - name: ${yamlString(name)}`,
    '    webhook_configs:',
    `      - url: ${yamlString(webhookUrl(receiver))}`,
    '        send_resolved: true',
    '        max_alerts: 0',
    '        http_config:',
    '          authorization:',
    '            type: Bearer',
    `            # ${t('start.snippet.token')}`,
    '            credentials_file: /etc/alertmanager/grafana-sa-token',
    '',
  ].join('\n');
}

/** Quotes a YAML scalar when it would not stay a plain string. */
function yamlString(s: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(s) && !/^[-:]/.test(s) ? s : JSON.stringify(s);
}

/** "Getting started": health, the Alertmanager snippet and the service-account token steps. */
function GettingStarted() {
  const s = useStyles2(getStyles);
  const [receiver, setReceiver] = React.useState('alertchart');
  const snippet = alertmanagerSnippet(receiver);
  const base = config.appSubUrl ?? '';

  return (
    <PluginPage>
      <Stack direction="column" gap={3}>
        <HealthBanner />

        <section>
          <Text element="h3">{t('start.step1')}</Text>
          <p>{t('start.step1.desc')}</p>
          <Field label={t('start.receiver')} description={t('start.receiver.desc')}>
            <Input
              id="ac-start-receiver"
              width={40}
              value={receiver}
              onChange={(e) => setReceiver(e.currentTarget.value)}
            />
          </Field>
          <pre className={s.code} data-testid="am-snippet">
            {snippet}
          </pre>
          <ClipboardButton icon="copy" variant="secondary" getText={() => snippet}>
            {t('start.copy')}
          </ClipboardButton>
          <p className={s.note}>{t('start.noRoutes')}</p>
        </section>

        <section>
          <Text element="h3">{t('start.step2')}</Text>
          <ol className={s.list}>
            <li>
              {t('start.sa.1')}{' '}
              <TextLink href={`${base}/org/serviceaccounts/new`} inline>
                {t('start.sa.link')}
              </TextLink>
            </li>
            <li>{t('start.sa.2')}</li>
            <li>{t('start.sa.3')}</li>
            <li>{t('start.sa.4')}</li>
          </ol>
          <pre
            className={s.code}
          >{`printf '%s' 'glsa_...' > /etc/alertmanager/grafana-sa-token\nchmod 600 /etc/alertmanager/grafana-sa-token`}</pre>
          <p className={s.note}>{t('start.sa.note', { id: PLUGIN_ID })}</p>
        </section>

        <section>
          <Text element="h3">{t('start.step3')}</Text>
          <p>
            {t('start.step3.desc')}{' '}
            <TextLink href={`${base}/plugins/${PLUGIN_ID}`} inline>
              {t('start.configLink')}
            </TextLink>
          </p>
        </section>
      </Stack>
    </PluginPage>
  );
}

export default GettingStarted;

const getStyles = (theme: GrafanaTheme2) => ({
  code: css({
    fontFamily: theme.typography.fontFamilyMonospace,
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(1.5),
    whiteSpace: 'pre',
    overflowX: 'auto',
  }),
  list: css({
    paddingLeft: theme.spacing(3),
    '& li': { marginBottom: theme.spacing(0.5) },
  }),
  note: css({
    color: theme.colors.text.secondary,
  }),
});
