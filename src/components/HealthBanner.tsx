import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Alert, Icon, IconName, LoadingPlaceholder, useStyles2 } from '@grafana/ui';
import { errorMessage } from '../api/resources';
import type { CheckStatus, Health } from '../api/types';
import { resourcePath, useResource } from '../api/useResource';
import { t, uiLang } from '../i18n/i18n';
import { checkName, checkNameKnown, checkText, statusWord } from '../i18n/health';

const severity = { ok: 'success', warning: 'warning', error: 'error' } as const;
const icons: Record<CheckStatus, IconName> = {
  ok: 'check-circle',
  warning: 'exclamation-triangle',
  error: 'times-circle',
  skipped: 'minus-circle',
};

/**
 * The backend's health at the top of a page: one line per check, its name,
 * status and text in the user's language (the check's code translated, the
 * backend's English message when the page does not know the code).
 */
export function HealthBanner() {
  const s = useStyles2(getStyles);
  const { data: health, error } = useResource<Health>(resourcePath('health'));

  if (error) {
    return (
      <Alert severity="error" title={t('health.unreachable')} data-testid="health-banner">
        {errorMessage(error)}
      </Alert>
    );
  }
  if (!health) {
    return <LoadingPlaceholder text={t('health.loading')} />;
  }
  const checks = health.checks ?? [];
  // Callers who are not administrators get the overall status only ("detailed": false, no checks): the title
  // says it, and a note that an administrator sees the details (the restricted summary would repeat the title).
  const restricted = health.detailed === false;
  let summary = '';
  let note = '';
  if (restricted) {
    note = t('health.restricted');
  } else if (checks.length === 0) {
    // A report without checks (an old backend's restricted answer) is its translated summary.
    summary = summaryText(health);
  } else if (
    !health.code &&
    uiLang() === 'en' &&
    !checks.some((c) => c.message && health.message.includes(c.message))
  ) {
    // Next to the checks the summary only repeats them, except an old backend's English summary in an English UI.
    summary = health.message;
  }
  return (
    <Alert
      severity={severity[health.status] ?? 'info'}
      title={t(`health.${health.status}`)}
      data-testid="health-banner"
      data-detailed={restricted ? 'false' : 'true'}
    >
      {summary && <div>{summary}</div>}
      {note && (
        <div className={s.weak} data-testid="health-restricted">
          {note}
        </div>
      )}
      {checks.length > 0 && (
        <ul className={s.list} aria-label={t('health.details')}>
          {checks.map((c, i) => {
            const { text, translated } = checkText(c);
            return (
              <li
                key={`${c.name}-${i}`}
                data-testid="health-check"
                data-status={c.status}
                data-translated={translated}
                data-name-translated={checkNameKnown(c)}
              >
                <Icon name={icons[c.status] ?? 'info-circle'} className={s.status[c.status] ?? s.status.skipped} />
                <span>
                  <strong>{checkName(c)}</strong>
                  <span className={s.weak}>{t('health.checkStatus', { status: statusWord(c.status) })}</span>
                  {text ? `${t('health.checkSeparator')}${text}` : ''}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </Alert>
  );
}

/** The report's summary in the user's language (its code and args), else its English message. */
function summaryText(h: Health): string {
  return checkText({ name: '', status: 'ok', message: h.message, code: h.code, args: h.args }).text;
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(0.5),
    '& li': { display: 'flex', gap: theme.spacing(1), alignItems: 'baseline' },
  }),
  weak: css({ color: theme.colors.text.secondary }),
  status: {
    ok: css({ color: theme.colors.success.text, flexShrink: 0, alignSelf: 'center' }),
    warning: css({ color: theme.colors.warning.text, flexShrink: 0, alignSelf: 'center' }),
    error: css({ color: theme.colors.error.text, flexShrink: 0, alignSelf: 'center' }),
    skipped: css({ color: theme.colors.text.disabled, flexShrink: 0, alignSelf: 'center' }),
  } as Record<string, string>,
});
