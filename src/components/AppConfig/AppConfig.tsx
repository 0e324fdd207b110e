import React from 'react';
import { lastValueFrom } from 'rxjs';
import { css } from '@emotion/css';
import { AppPluginMeta, GrafanaTheme2, PluginConfigPageProps } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { Alert, Button, Stack, useStyles2 } from '@grafana/ui';
import { errorMessage } from '../../api/resources';
import { reloadPage } from '../../utils/reload';
import { Draft, draftFromMeta, toPayload } from '../../settings/draft';
import { JsonData } from '../../settings/model';
import { FieldIssue, validateDraft } from '../../settings/validate';
import { MessageKey, t } from '../../i18n/i18n';
import { DataSourceSection } from './DataSourceSection';
import { AlertmanagerSection } from './AlertmanagerSection';
import { RendererSection } from './RendererSection';
import { ChartSection } from './ChartSection';
import { ChannelsSection } from './ChannelsSection';
import { RoutesSection } from './RoutesSection';
import { DeliverySection, ImageStoreSection } from './StorageSection';
import { PreviewSection } from './PreviewSection';
import { HealthBanner } from '../HealthBanner';

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<JsonData>> {}

/** A validation issue in the page's language, e.g. "must be between 200 and 4000, not 50". */
export function issueText(i: FieldIssue): string {
  return t(i.code as MessageKey, i.vars);
}

/** The app's configuration page (plugin settings: jsonData + secureJsonData). */
const AppConfig = ({ plugin }: AppConfigProps) => {
  const s = useStyles2(getStyles);
  const { enabled, pinned, jsonData, secureJsonFields } = plugin.meta;
  const [draft, setDraft] = React.useState<Draft>(() => draftFromMeta(jsonData, secureJsonFields));
  const [dirty, setDirty] = React.useState(false);
  const [triedSave, setTriedSave] = React.useState(false);
  const [saving, setSaving] = React.useState(false);
  const [saveError, setSaveError] = React.useState('');

  const issues = React.useMemo(() => validateDraft(draft), [draft]);
  const byPath = React.useMemo(() => {
    const m = new Map<string, string>();
    for (const i of issues) {
      if (!m.has(i.path)) {
        m.set(i.path, issueText(i));
      }
    }
    return m;
  }, [issues]);
  const issue = React.useCallback((path: string) => byPath.get(path), [byPath]);

  const update = React.useCallback((change: (d: Draft) => Draft) => {
    setDraft((d) => change(d));
    setDirty(true);
  }, []);

  const save = async (enable?: boolean) => {
    setTriedSave(true);
    setSaveError('');
    if (issues.length > 0) {
      return;
    }
    const payload = toPayload(draft);
    setSaving(true);
    try {
      await lastValueFrom(
        getBackendSrv().fetch({
          url: `/api/plugins/${plugin.meta.id}/settings`,
          method: 'POST',
          data: {
            enabled: enable ? true : enabled,
            pinned: enable ? true : pinned,
            jsonData: payload.jsonData,
            // Grafana keeps every secure field not named here; only changed secrets go out.
            secureJsonData: Object.keys(payload.secureJsonData).length ? payload.secureJsonData : undefined,
          },
          showErrorAlert: false,
        })
      );
      // Grafana offers no supported way to refresh plugin meta in place; reloading picks up the saved settings.
      reloadPage();
    } catch (e) {
      setSaveError(errorMessage(e));
      setSaving(false);
    }
  };

  const sectionProps = { draft, update, issue };

  return (
    <form
      className={s.form}
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      {!enabled && (
        <Alert severity="info" title={t('config.disabled')}>
          {t('config.disabled.desc')}
        </Alert>
      )}
      {/* The backend's verdict on the saved settings (it parses them with the same rules). */}
      {enabled && <HealthBanner />}
      <DataSourceSection {...sectionProps} />
      <AlertmanagerSection {...sectionProps} />
      <RendererSection {...sectionProps} />
      <ChartSection {...sectionProps} />
      <ChannelsSection {...sectionProps} dirty={dirty} />
      <RoutesSection {...sectionProps} />
      <ImageStoreSection {...sectionProps} />
      <DeliverySection {...sectionProps} />

      {triedSave && issues.length > 0 && (
        <Alert severity="error" title={t('config.invalid', { n: issues.length })}>
          <ul className={s.issues}>
            {issues.map((i, k) => (
              <li key={k}>
                <code>{i.path}</code>: {issueText(i)}
              </li>
            ))}
          </ul>
        </Alert>
      )}
      {saveError && (
        <Alert severity="error" title={t('config.saveFailed')}>
          {saveError}
        </Alert>
      )}
      <Stack gap={1}>
        <Button type="submit" disabled={saving}>
          {saving ? t('config.saving') : t('config.save')}
        </Button>
        {!enabled && (
          <Button variant="secondary" disabled={saving} onClick={() => save(true)}>
            {t('config.enableAndSave')}
          </Button>
        )}
      </Stack>

      {/* Previews run in the plugin backend, which only answers while the app is enabled. */}
      {enabled && (
        <div className={s.actions}>
          <PreviewSection />
        </div>
      )}
    </form>
  );
};

export default AppConfig;

const getStyles = (theme: GrafanaTheme2) => ({
  form: css({
    maxWidth: 960,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(2),
  }),
  issues: css({
    margin: 0,
    paddingLeft: theme.spacing(2),
  }),
  actions: css({
    marginTop: theme.spacing(4),
    paddingTop: theme.spacing(2),
    borderTop: `1px solid ${theme.colors.border.weak}`,
  }),
});
