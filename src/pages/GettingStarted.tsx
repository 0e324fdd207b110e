import React from 'react';
import { css } from '@emotion/css';
import { AppPluginMeta, GrafanaTheme2 } from '@grafana/data';
import { PluginPage, config } from '@grafana/runtime';
import { Alert, Field, Input, Stack, Tab, TabContent, TabsBar, Text, TextLink, useStyles2 } from '@grafana/ui';
import { PLUGIN_ID } from '../constants';
import { grafanaBaseUrl } from '../api/resources';
import { HealthBanner } from '../components/HealthBanner';
import { CodeBlock, CopyValue, DefinitionList } from '../components/CodeBlock';
import { currentOrgId } from '../components/AppConfig/AlertmanagerSection';
import { JsonData } from '../settings/model';
import { t } from '../i18n/i18n';
import {
  GRAFANA_RECEIVER,
  WEBHOOK_TOKEN_FILE,
  WEBHOOK_TOKEN_HEADER,
  alertmanagerSnippet,
  allowedUsersSnippet,
  grafanaContactPointUrl,
  grafanaRouteSnippet,
  loginAllowed,
  serviceAccountLogin,
  tokenFileCommands,
} from './alertmanagerSetup';

export { alertmanagerSnippet, webhookUrl } from './alertmanagerSetup';

export interface GettingStartedProps {
  /** The app's meta as Grafana gives the root page: the saved jsonData and which secrets are set. */
  meta?: Pick<AppPluginMeta<JsonData>, 'jsonData' | 'secureJsonFields'>;
}

type TabId = 'alertmanager' | 'grafana';

/**
 * "Getting started": health, then README's set-ups filled in for this
 * Grafana — Prometheus Alertmanager (a service account, its login in
 * webhook.allowedUsers, the receiver) and Grafana Alerting (the webhook
 * contact point, its policy and route).
 */
function GettingStarted({ meta }: GettingStartedProps) {
  const s = useStyles2(getStyles);
  const [tab, setTab] = React.useState<TabId>('alertmanager');
  const [receiver, setReceiver] = React.useState('ops');
  const [saName, setSaName] = React.useState('alertmanager');
  const [selfUrl, setSelfUrl] = React.useState(`http://localhost:3000${config.appSubUrl ?? ''}`);
  const [grafanaUrl, setGrafanaUrl] = React.useState(grafanaBaseUrl);
  const orgId = currentOrgId();
  const login = serviceAccountLogin(orgId, saName || 'alertmanager');
  const base = config.appSubUrl ?? '';
  const configUrl = `${base}/plugins/${PLUGIN_ID}`;

  // What the saved settings say (undefined when Grafana did not hand them to this page).
  const saved = meta?.jsonData;
  const webhookToken = Boolean(meta?.secureJsonFields?.webhookToken);
  const allowed = saved ? loginAllowed(saved.webhook?.allowedUsers, login) : undefined;
  const channels = (saved?.channels ?? []).map((c) => c.name).filter(Boolean);
  const routes = saved?.routes ?? [];
  const grafanaRouted =
    routes.length === 0 || routes.some((r) => r.receiver === GRAFANA_RECEIVER || r.receiver === '*');

  // The backend takes a webhook when the login is listed (if any is) and the token matches (if one is set).
  const noLogins = (saved?.webhook?.allowedUsers ?? []).length === 0;
  let loginStatus: React.ReactNode = null;
  if (allowed) {
    loginStatus = <Alert severity="success" title={t('start.login.ok', { login })} data-testid="login-status" />;
  } else if (allowed === false && noLogins && webhookToken) {
    loginStatus = (
      <Alert severity="info" title={t('start.login.tokenOnly')} data-testid="login-status">
        {t('start.login.tokenOnly.desc', { login })}{' '}
        <TextLink href={configUrl} inline>
          {t('start.configLink')}
        </TextLink>
      </Alert>
    );
  } else if (allowed === false) {
    loginStatus = (
      <Alert severity="warning" title={t('start.login.missing', { login })} data-testid="login-status">
        {t('start.login.missing.desc')}{' '}
        <TextLink href={configUrl} inline>
          {t('start.configLink')}
        </TextLink>
      </Alert>
    );
  }

  return (
    <PluginPage>
      <Stack direction="column" gap={3}>
        <HealthBanner />
        <p className={s.lead}>{t('start.intro')}</p>

        <div>
          <TabsBar>
            <Tab
              label={t('start.tab.alertmanager')}
              active={tab === 'alertmanager'}
              onChangeTab={() => setTab('alertmanager')}
            />
            <Tab label={t('start.tab.grafana')} active={tab === 'grafana'} onChangeTab={() => setTab('grafana')} />
          </TabsBar>
          <TabContent className={s.tab}>
            {tab === 'alertmanager' && (
              <Stack direction="column" gap={3}>
                <Stack gap={2} wrap="wrap">
                  <Field label={t('start.receiver')} description={t('start.receiver.desc')} className={s.input}>
                    <Input
                      id="ac-start-receiver"
                      value={receiver}
                      onChange={(e) => setReceiver(e.currentTarget.value)}
                    />
                  </Field>
                  <Field label={t('start.saName')} description={t('start.saName.desc')} className={s.input}>
                    <Input id="ac-start-sa-name" value={saName} onChange={(e) => setSaName(e.currentTarget.value)} />
                  </Field>
                  <Field label={t('start.org')} description={t('start.org.desc')} className={s.narrow}>
                    <Input id="ac-start-org" value={String(orgId)} readOnly />
                  </Field>
                </Stack>
                <Field label={t('start.grafanaUrl')} description={t('start.grafanaUrl.desc')} className={s.wide}>
                  <Input
                    id="ac-start-grafana-url"
                    value={grafanaUrl}
                    onChange={(e) => setGrafanaUrl(e.currentTarget.value)}
                  />
                </Field>

                <section className={s.step}>
                  <Text element="h3">{t('start.step1')}</Text>
                  <ol className={s.list}>
                    <li>
                      {t('start.sa.1', { name: saName || 'alertmanager' })}{' '}
                      <TextLink href={`${base}/org/serviceaccounts/new`} inline>
                        {t('start.sa.link')}
                      </TextLink>
                    </li>
                    <li>{t('start.sa.2')}</li>
                    <li>{t('start.sa.3')}</li>
                  </ol>
                  <CodeBlock code={tokenFileCommands(webhookToken)} title="shell" testId="token-commands" />
                  <p className={s.note}>
                    {t('start.sa.login.before')} <code data-testid="sa-login">{login}</code>{' '}
                    {t('start.sa.login.after', { name: saName || 'alertmanager' })}
                  </p>
                </section>

                <section className={s.step}>
                  <Text element="h3">{t('start.step2')}</Text>
                  <p>
                    {t('start.step2.desc')}{' '}
                    <TextLink href={configUrl} inline>
                      {t('start.configLink')}
                    </TextLink>
                  </p>
                  <CodeBlock
                    code={allowedUsersSnippet([login])}
                    title="provisioning/plugins/apps.yaml"
                    testId="allowed-users-snippet"
                  />
                  {loginStatus}
                </section>

                <section className={s.step}>
                  <Text element="h3">{t('start.step3')}</Text>
                  <p>{t('start.step3.desc')}</p>
                  <CodeBlock
                    code={alertmanagerSnippet({ receiver, grafanaUrl, webhookToken })}
                    title="alertmanager.yml"
                    testId="am-snippet"
                  />
                  {webhookToken && (
                    <Alert severity="info" title={t('start.tokenHeader.title')} data-testid="token-header-note">
                      {t('start.tokenHeader', { header: WEBHOOK_TOKEN_HEADER, file: WEBHOOK_TOKEN_FILE })}
                    </Alert>
                  )}
                  <p className={s.note}>
                    {routes.length === 0 ? t('start.noRoutes') : t('start.routes', { receiver })}
                  </p>
                </section>
              </Stack>
            )}

            {tab === 'grafana' && (
              <Stack direction="column" gap={3}>
                <p>{t('start.ga.desc')}</p>
                <section className={s.step}>
                  <Text element="h3">{t('start.ga.step1')}</Text>
                  <p>{t('start.ga.identity', { login: serviceAccountLogin(orgId, 'grafana-alerting') })}</p>
                  {loginStatus}
                </section>

                <section className={s.step}>
                  <Text element="h3">{t('start.ga.step2')}</Text>
                  <p>{t('start.ga.step2.desc')}</p>
                  <Field label={t('start.ga.selfUrl')} description={t('start.ga.selfUrl.desc')}>
                    <Input
                      id="ac-start-self-url"
                      width={50}
                      value={selfUrl}
                      onChange={(e) => setSelfUrl(e.currentTarget.value)}
                    />
                  </Field>
                  <div data-testid="contact-point">
                    <DefinitionList
                      rows={[
                        [t('start.ga.url'), <CopyValue key="u" value={grafanaContactPointUrl(selfUrl)} />],
                        [t('start.ga.method'), <code key="m">POST</code>],
                        [t('start.ga.auth'), t('start.ga.auth.value')],
                        ...(webhookToken
                          ? [
                              [
                                t('start.ga.headers'),
                                t('start.ga.headers.value', { header: WEBHOOK_TOKEN_HEADER }),
                              ] as [string, React.ReactNode],
                            ]
                          : []),
                        [t('start.ga.payload'), t('start.ga.payload.value')],
                      ]}
                    />
                  </div>
                </section>

                <section className={s.step}>
                  <Text element="h3">{t('start.ga.step3')}</Text>
                  <p>{t('start.ga.step3.desc', { receiver: GRAFANA_RECEIVER })}</p>
                  <CodeBlock
                    code={grafanaRouteSnippet(channels)}
                    title="provisioning/plugins/apps.yaml"
                    testId="grafana-route-snippet"
                  />
                  {!grafanaRouted && (
                    <Alert severity="warning" title={t('start.ga.noRoute', { receiver: GRAFANA_RECEIVER })} />
                  )}
                  <p className={s.note}>{t('start.ga.permissions')}</p>
                </section>
              </Stack>
            )}
          </TabContent>
        </div>

        <section className={s.step}>
          <Text element="h3">{t('start.test')}</Text>
          <p>
            {t('start.test.desc')}{' '}
            <TextLink href={configUrl} inline>
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
  lead: css({ margin: 0, maxWidth: 960 }),
  tab: css({ paddingTop: theme.spacing(3) }),
  step: css({
    maxWidth: 960,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(1),
    '& p': { margin: 0 },
  }),
  input: css({ width: 300, marginBottom: 0 }),
  wide: css({ width: 624, maxWidth: '100%', marginBottom: 0 }),
  narrow: css({ width: 140, marginBottom: 0 }),
  list: css({
    margin: 0,
    paddingLeft: theme.spacing(3),
    '& li': { marginBottom: theme.spacing(0.5) },
  }),
  note: css({ color: theme.colors.text.secondary }),
});
