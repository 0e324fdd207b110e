import React from 'react';
import { Alert, Button, Combobox, Field, FieldSet, RadioButtonGroup, Stack, TextArea, useStyles2 } from '@grafana/ui';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { errorMessage, resourcePost } from '../../api/resources';
import type {
  AmAlert,
  ExplainAnswer,
  GoDuration,
  Plan,
  PreviewAnswer,
  RecentAlert,
  WebhookPayload,
} from '../../api/types';
import { resourcePath, useResource } from '../../api/useResource';
import { humanSpan, parseDuration } from '../../settings/duration';
import { t, tOr } from '../../i18n/i18n';
import { formatTime } from '../../utils/format';

export type { AmAlert, PreviewAnswer, RecentAlert, WebhookPayload, Plan } from '../../api/types';

const labelText = (m: Record<string, string> | undefined) =>
  Object.entries(m ?? {})
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');

/** A span in the page's words ("13 d 23 h"), from milliseconds. */
function span(ms: number): string {
  return humanSpan(ms, (u, n) => t(`span.${u}`, { n }));
}

/** A Go duration ("10m0s", seconds) in the page's words, or as sent when it does not parse. */
function goSpan(d: GoDuration | undefined): string | undefined {
  if (d === undefined || d === '') {
    return undefined;
  }
  const p = parseDuration(d);
  return p.ok ? span(p.ms) : String(d);
}

/**
 * A chart plan in words: what is charted, the window the rule asked for, the
 * range actually drawn (start – end, its length and step: an old alert's
 * range is widened to include its start) and why, and what fell back.
 */
export function PlanView({ plan }: { plan: Plan }) {
  const s = useStyles2(getStyles);
  const rows: Array<[string, React.ReactNode, string?]> = [];
  const add = (label: string, v: React.ReactNode, testId?: string) => {
    if (v !== undefined && v !== null && v !== '') {
      rows.push([label, v, testId]);
    }
  };
  add(t('plan.title'), plan.title);
  add(
    t('plan.rule'),
    plan.rule?.name ? `${plan.rule.name}${plan.rule.for ? ` (for ${goSpan(plan.rule.for)})` : ''}` : undefined
  );
  add(t('plan.source'), plan.source && tOr(`plan.source.${plan.source}`, plan.source));
  add(t('plan.expr'), plan.expr && <code>{plan.expr}</code>);
  add(t('plan.query'), plan.query && <code>{plan.query}</code>);
  add(t('plan.window'), goSpan(plan.window));
  const start = plan.start ? Date.parse(plan.start) : NaN;
  const end = plan.end ? Date.parse(plan.end) : NaN;
  add(
    t('plan.range'),
    Number.isFinite(start) && Number.isFinite(end) ? (
      <>
        <div>
          {formatTime(start)} – {formatTime(end)}
        </div>
        <div className={s.weak}>{t('plan.rangeSpan', { span: span(end - start), step: goSpan(plan.step) ?? '–' })}</div>
      </>
    ) : undefined,
    'plan-range'
  );
  add(t('plan.rangeReason'), plan.rangeReason, 'plan-range-reason');
  add(t('plan.injected'), labelText(plan.injectedLabels) || undefined);
  add(t('plan.postFilter'), labelText(plan.postFilterLabels) || undefined);
  add(t('plan.conditions'), plan.conditions?.length ? plan.conditions.join('; ') : undefined);
  add(t('plan.noData'), plan.noDataNote);
  return (
    <Stack direction="column" gap={1}>
      {plan.noChartReason && (
        <Alert severity="info" title={t('plan.noChart')}>
          {plan.noChartReason}
        </Alert>
      )}
      {plan.fallbacks && plan.fallbacks.length > 0 && (
        <Alert severity="warning" title={t('plan.fallbacks')}>
          <ul className={s.list}>
            {plan.fallbacks.map((f, i) => (
              <li key={i}>{f}</li>
            ))}
          </ul>
        </Alert>
      )}
      {/* A label–value list, not a data table: Grafana's InteractiveTable is for rows of records. */}
      <dl className={s.plan}>
        {rows.map(([label, v, testId]) => (
          <div key={label} className={s.row} data-testid={testId}>
            <dt>{label}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <details>
        <summary>{t('plan.json')}</summary>
        <pre className={s.json}>{JSON.stringify(plan, null, 2)}</pre>
      </details>
    </Stack>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  plan: css({
    display: 'grid',
    gridTemplateColumns: 'max-content 1fr',
    margin: 0,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
  }),
  row: css({
    display: 'contents',
    '& dt, & dd': {
      margin: 0,
      padding: theme.spacing(0.75, 1.5),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
    },
    '&:last-child dt, &:last-child dd': { borderBottom: 'none' },
    '& dt': {
      color: theme.colors.text.secondary,
      fontWeight: theme.typography.fontWeightMedium,
      whiteSpace: 'nowrap',
    },
    '& dd': { wordBreak: 'break-word' },
  }),
  weak: css({ color: theme.colors.text.secondary }),
  list: css({ margin: 0, paddingLeft: theme.spacing(2) }),
  json: css({ maxHeight: 300, overflow: 'auto' }),
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
  const recentAnswer = useResource<{ alerts: RecentAlert[] }>(resourcePath('recent'));
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
