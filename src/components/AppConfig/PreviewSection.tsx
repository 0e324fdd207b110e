import React from 'react';
import { Alert, Button, Combobox, Field, FieldSet, RadioButtonGroup, Stack, TextArea } from '@grafana/ui';
import { errorMessage, resourceGet, resourcePost } from '../../api/resources';
import { t } from '../../i18n/i18n';

/** One alert as Alertmanager sends it (webhook v4). */
export interface AmAlert {
  status: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
}

/** GET recent answer item. */
export interface RecentAlert {
  receiver: string;
  receivedAt: string;
  alert: AmAlert;
}

/** Alertmanager webhook v4 payload. */
export interface WebhookPayload {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AmAlert[];
}

/** The fields of chartplan.Plan (POST explain) this page shows. */
export interface Plan {
  alert?: { name?: string; status?: string; labels?: Record<string, string> };
  rule?: { name?: string; expr?: string; for?: string | number };
  source?: string;
  expr?: string;
  query?: string;
  conditions?: string[];
  injectedLabels?: Record<string, string>;
  postFilterLabels?: Record<string, string>;
  start?: string;
  end?: string;
  step?: string | number;
  window?: string | number;
  title?: string;
  noDataNote?: string;
  fallbacks?: string[];
  noChartReason?: string;
}

const labelText = (m: Record<string, string> | undefined) =>
  Object.entries(m ?? {})
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');

/** A chart plan in words: what is charted, over which window, and what fell back. */
export function PlanView({ plan }: { plan: Plan }) {
  const rows: Array<[string, React.ReactNode]> = [];
  const add = (label: string, v: React.ReactNode) => {
    if (v !== undefined && v !== null && v !== '') {
      rows.push([label, v]);
    }
  };
  add(t('plan.title'), plan.title);
  add(
    t('plan.rule'),
    plan.rule?.name ? `${plan.rule.name}${plan.rule.for ? ` (for ${plan.rule.for})` : ''}` : undefined
  );
  add(t('plan.source'), plan.source);
  add(t('plan.expr'), plan.expr && <code>{plan.expr}</code>);
  add(t('plan.query'), plan.query && <code>{plan.query}</code>);
  add(t('plan.window'), plan.window !== undefined ? String(plan.window) : undefined);
  add(
    t('plan.range'),
    plan.start && plan.end
      ? `${new Date(plan.start).toLocaleString()} – ${new Date(plan.end).toLocaleString()}`
      : undefined
  );
  add(t('plan.step'), plan.step !== undefined ? String(plan.step) : undefined);
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
          <ul style={{ margin: 0, paddingLeft: 16 }}>
            {plan.fallbacks.map((f, i) => (
              <li key={i}>{f}</li>
            ))}
          </ul>
        </Alert>
      )}
      <table>
        <tbody>
          {rows.map(([label, v]) => (
            <tr key={label}>
              <th style={{ textAlign: 'left', paddingRight: 16, verticalAlign: 'top', whiteSpace: 'nowrap' }}>
                {label}
              </th>
              <td style={{ wordBreak: 'break-all' }}>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>{t('plan.json')}</summary>
        <pre style={{ maxHeight: 300, overflow: 'auto' }}>{JSON.stringify(plan, null, 2)}</pre>
      </details>
    </Stack>
  );
}

export interface PreviewAnswer {
  plan: Plan;
  image: string;
  renderer: string;
  fallbackReason?: string;
  /** A degradation worth knowing, e.g. series dropped over chart.maxSeries. */
  note?: string;
  imageError?: string;
}

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
  const [source, setSource] = React.useState<Source>('recent');
  const [recent, setRecent] = React.useState<RecentAlert[] | null>(null);
  const [recentError, setRecentError] = React.useState('');
  const [picked, setPicked] = React.useState<number | null>(null);
  const [pasted, setPasted] = React.useState('');
  const [inputError, setInputError] = React.useState('');
  const [plans, setPlans] = React.useState<Plan[] | null>(null);
  const [payload, setPayload] = React.useState<WebhookPayload | null>(null);
  const [previews, setPreviews] = React.useState<Record<number, PreviewAnswer | { error: string } | 'loading'>>({});
  const [busy, setBusy] = React.useState(false);

  React.useEffect(() => {
    let cancelled = false;
    resourceGet<{ alerts: RecentAlert[] }>('recent')
      .then((r) => {
        if (!cancelled) {
          setRecent(r.alerts ?? []);
          if ((r.alerts ?? []).length === 0) {
            setSource('paste');
          }
        }
      })
      .catch((e) => !cancelled && setRecentError(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, []);

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
      const ex = await resourcePost<{ plans: Plan[] }>('explain', p);
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
    description: `${r.alert.status} · ${r.receiver} · ${new Date(r.receivedAt).toLocaleString()}`,
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
          <div key={i} data-testid={`preview-plan-${i}`}>
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
                {pv.image && (
                  <img src={pv.image} alt={t('preview.imageAlt', { n: i + 1 })} style={{ maxWidth: '100%' }} />
                )}
              </Stack>
            )}
          </div>
        );
      })}
    </FieldSet>
  );
}
