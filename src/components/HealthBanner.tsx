import React from 'react';
import { Alert, LoadingPlaceholder } from '@grafana/ui';
import { errorMessage, resourceGet } from '../api/resources';
import { t } from '../i18n/i18n';

/** GET health answer (notes/API.md). */
export interface Health {
  status: 'ok' | 'warning' | 'error';
  message: string;
  checks?: Array<{ name: string; status: 'ok' | 'warning' | 'error'; message: string }>;
}

const severity = { ok: 'success', warning: 'warning', error: 'error' } as const;

/** The backend's health, shown at the top of a page. */
export function HealthBanner() {
  const [health, setHealth] = React.useState<Health | null>(null);
  const [failure, setFailure] = React.useState('');

  React.useEffect(() => {
    let cancelled = false;
    resourceGet<Health>('health')
      .then((h) => !cancelled && setHealth(h))
      .catch((e) => !cancelled && setFailure(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, []);

  if (failure) {
    return (
      <Alert severity="error" title={t('health.unreachable')}>
        {failure}
      </Alert>
    );
  }
  if (!health) {
    return <LoadingPlaceholder text={t('health.loading')} />;
  }
  return (
    <Alert severity={severity[health.status] ?? 'info'} title={t(`health.${health.status}`)}>
      {health.message && <div>{health.message}</div>}
      {health.checks && health.checks.length > 0 && (
        <ul style={{ margin: 0, paddingLeft: 16 }}>
          {health.checks.map((c) => (
            <li key={c.name}>
              <strong>{c.name}</strong> ({t(`health.check.${c.status}`)}){c.message ? `: ${c.message}` : ''}
            </li>
          ))}
        </ul>
      )}
    </Alert>
  );
}
