import React from 'react';
import { Alert, Button, Combobox, Field, FieldSet, RadioButtonGroup, Stack, TextArea, useStyles2 } from '@grafana/ui';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { errorMessage, resourcePost } from '../../api/resources';
import type {
  AmAlert,
  ExplainAnswer,
  Plan,
  PreviewAnswer,
  RecentAlert,
  RecentList,
  WebhookPayload,
} from '../../api/types';
import { resourcePath, useResource } from '../../api/useResource';
import { t } from '../../i18n/i18n';
import { PlanView } from './PlanView';
import { formatTime } from '../../utils/format';

export type { AmAlert, PreviewAnswer, RecentAlert, WebhookPayload, Plan } from '../../api/types';
export { PlanView } from './PlanView';

const getStyles = (theme: GrafanaTheme2) => ({
  image: css({ maxWidth: '100%', borderRadius: theme.shape.radius.default }),
  planBlock: css({
    marginTop: theme.spacing(2),
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(1),
  }),
});

/** Wraps alerts into the webhook payload /explain and /preview read. */
export function payloadFor(receiver: string, alerts: AmAlert[]): WebhookPayload {
  const first = alerts[0];
  return {
    version: '4',
    groupKey: `preview:${first?.fingerprint ?? ''}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: {},
    commonLabels: alerts.length === 1 ? { ...first.labels } : {},
    commonAnnotations: alerts.length === 1 ? { ...(first.annotations ?? {}) } : {},
    externalURL: '',
    alerts,
  };
}

/** Alertmanager's API v2 reports status as {state: "active"|...}; the webhook uses "firing"|"resolved". */
function normaliseAlert(a: Record<string, unknown>): AmAlert {
  const status = a.status;
  let s = 'firing';
  if (typeof status === 'string') {
    s = status;
  } else if (status && typeof status === 'object') {
    // API v2 alerts are active, suppressed or unprocessed: all still firing.
    s = 'firing';
  } else if (typeof a.endsAt === 'string' && !a.endsAt.startsWith('0001-') && Date.parse(a.endsAt) < Date.now()) {
    s = 'resolved';
  }
  return { ...(a as unknown as AmAlert), status: s };
}

export type ParsedPaste = { ok: true; payload: WebhookPayload } | { ok: false; error: string };

/**
 * Reads what a user pastes: a webhook payload, one alert, or an array of
 * alerts (e.g. from Alertmanager's GET /api/v2/alerts).
 */
export function parsePaste(text: string): ParsedPaste {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: t('preview.paste.badJson', { error: e instanceof Error ? e.message : String(e) }) };
  }
  const isAlert = (x: unknown) =>
    Boolean(x) && typeof x === 'object' && typeof (x as { labels?: unknown }).labels === 'object';
  if (v && typeof v === 'object' && Array.isArray((v as { alerts?: unknown }).alerts)) {
    const p = v as WebhookPayload;
    if (p.alerts.length === 0) {
      return { ok: false, error: t('preview.paste.noAlerts') };
    }
    return { ok: true, payload: p };
  }
  if (Array.isArray(v) && v.length > 0 && v.every(isAlert)) {
    return {
      ok: true,
      payload: payloadFor(
        'preview',
        v.map((a) => normaliseAlert(a as Record<string, unknown>))
      ),
    };
  }
  if (isAlert(v)) {
    return { ok: true, payload: payloadFor('preview', [normaliseAlert(v as Record<string, unknown>)]) };
  }
  return { ok: false, error: t('preview.paste.notAlert') };
}

type Source = 'recent' | 'paste';

/** "Preview chart": the chart plan and image for an alert, before a real one arrives. */
export function PreviewSection() {
  // Until the user picks, "recent" — or "paste" when no alert has been received yet.
  const [chosenSource, setSource] = React.useState<Source | null>(null);
  const recentAnswer = useResource<RecentList>(resourcePath('recent'));
  const recent: RecentAlert[] | null = recentAnswer.data ? (recentAnswer.data.alerts ?? []) : null;
  const recentError = recentAnswer.error ? errorMessage(recentAnswer.error) : '';
  const [picked, setPicked] = React.useState<number | null>(null);
  const [pasted, setPasted] = React.useState('');
  const [inputError, setInputError] = React.useState('');
  const [plans, setPlans] = React.useState<Plan[] | null>(null);
  const [payload, setPayload] = React.useState<WebhookPayload | null>(null);
  const [previews, setPreviews] = React.useState<Record<number, PreviewAnswer | { error: string } | 'loading'>>({});
  const [busy, setBusy] = React.useState(false);
  const s = useStyles2(getStyles);
  const source: Source = chosenSource ?? (recent !== null && recent.length === 0 ? 'paste' : 'recent');

  const render = async (p: WebhookPayload, index: number) => {
    setPreviews((m) => ({ ...m, [index]: 'loading' }));
    try {
      const a = await resourcePost<PreviewAnswer>(`preview?index=${index}`, p);
      setPreviews((m) => ({ ...m, [index]: a }));
    } catch (e) {
      setPreviews((m) => ({ ...m, [index]: { error: errorMessage(e) } }));
    }
  };

  const run = async () => {
    setInputError('');
    setPlans(null);
    setPreviews({});
    let p: WebhookPayload;
    if (source === 'recent') {
      const r = picked !== null ? recent?.[picked] : undefined;
      if (!r) {
        setInputError(t('preview.pickFirst'));
        return;
      }
      p = payloadFor(r.receiver, [r.alert]);
    } else {
      const parsed = parsePaste(pasted);
      if (!parsed.ok) {
        setInputError(parsed.error);
        return;
      }
      p = parsed.payload;
    }
    setPayload(p);
    setBusy(true);
    try {
      const ex = await resourcePost<ExplainAnswer>('explain', p);
      setPlans(ex.plans ?? []);
      const first = (ex.plans ?? []).findIndex((pl) => !pl.noChartReason);
      if (first >= 0) {
        await render(p, first);
      }
    } catch (e) {
      setInputError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const recentOptions = (recent ?? []).map((r, i) => ({
    value: i,
    label: `${r.alert.labels.alertname ?? '?'} ${r.alert.labels.instance ?? ''}`.trim(),
    description: `${r.alert.status} · ${r.receiver} · ${formatTime(r.receivedAt)}`,
  }));

  return (
    <FieldSet label={t('preview.title')}>
      <p>{t('preview.desc')}</p>
      <Field label={t('preview.source')}>
        <RadioButtonGroup<Source>
          options={[
            { label: t('preview.source.recent'), value: 'recent' },
            { label: t('preview.source.paste'), value: 'paste' },
          ]}
          value={source}
          onChange={setSource}
        />
      </Field>
      {source === 'recent' && recentError && (
        <Alert severity="warning" title={t('preview.recent.error')}>
          {recentError}
        </Alert>
      )}
      {source === 'recent' && (
        <Field
          label={t('preview.recent')}
          description={recent && recent.length === 0 ? t('preview.recent.none') : undefined}
        >
          <Combobox<number>
            id="ac-preview-recent"
            width={60}
            loading={recent === null && !recentError}
            placeholder={t('preview.recent.placeholder')}
            options={recentOptions}
            value={picked}
            onChange={(o) => setPicked(o.value)}
          />
        </Field>
      )}
      {source === 'paste' && (
        <Field label={t('preview.paste')} description={t('preview.paste.desc')}>
          <TextArea
            id="ac-preview-paste"
            rows={8}
            value={pasted}
            placeholder={
              '{"labels": {"alertname": "HighCPU", "instance": "node1:9100"}, "generatorURL": "http://prometheus:9090/graph?g0.expr=..."}'
            }
            onChange={(e) => setPasted(e.currentTarget.value)}
          />
        </Field>
      )}
      <Button icon="chart-line" onClick={run} disabled={busy}>
        {busy ? t('preview.running') : t('preview.run')}
      </Button>
      {inputError && (
        <Alert severity="error" title={t('preview.failed')}>
          {inputError}
        </Alert>
      )}
      {plans && plans.length === 0 && <Alert severity="info" title={t('preview.noPlans')} />}
      {plans?.map((plan, i) => {
        const pv = previews[i];
        return (
          <div key={i} data-testid={`preview-plan-${i}`} className={s.planBlock}>
            <h4>{t('preview.plan', { n: i + 1 })}</h4>
            <PlanView plan={plan} />
            {pv === undefined && payload && !plan.noChartReason && (
              <Button variant="secondary" onClick={() => render(payload, i)}>
                {t('preview.render')}
              </Button>
            )}
            {pv === 'loading' && <span>{t('preview.rendering')}</span>}
            {pv && pv !== 'loading' && 'error' in pv && (
              <Alert severity="error" title={t('preview.renderFailed')}>
                {pv.error}
              </Alert>
            )}
            {pv && pv !== 'loading' && !('error' in pv) && (
              <Stack direction="column" gap={1}>
                {/* The chart.renderer value that drew it ("native", "grafana"), a settings keyword. */}
                {pv.renderer && <div>{t('preview.renderer', { renderer: pv.renderer })}</div>}
                {pv.note && <div>{pv.note}</div>}
                {pv.fallbackReason && (
                  <Alert severity="warning" title={t('preview.fallback')}>
                    {pv.fallbackReason}
                  </Alert>
                )}
                {pv.imageError && (
                  <Alert severity="error" title={t('preview.imageError')}>
                    {pv.imageError}
                  </Alert>
                )}
                {pv.image && <img src={pv.image} alt={t('preview.imageAlt', { n: i + 1 })} className={s.image} />}
              </Stack>
            )}
          </div>
        );
      })}
    </FieldSet>
  );
}
