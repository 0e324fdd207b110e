import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { config } from '@grafana/runtime';
import { Alert, Stack, TextLink, useStyles2 } from '@grafana/ui';
import type { GoDuration, GrafanaPlan, GrafanaQuery, Plan, Threshold } from '../../api/types';
import { DefinitionList } from '../CodeBlock';
import { humanSpan, parseDuration } from '../../settings/duration';
import { Lang, MessageKey, t, tOr, uiLang } from '../../i18n/i18n';
import { formatTime } from '../../utils/format';

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

/** A threshold value without float noise (0.014400000000000001 → 0.0144). */
function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

const bandKeys: Record<string, MessageKey> = {
  within_range: 'plan.band.within_range',
  outside_range: 'plan.band.outside_range',
  within_range_included: 'plan.band.within_range_included',
  outside_range_included: 'plan.band.outside_range_included',
};

/** A threshold in words: "> 80", a band "inside 10 – 90", with the series it is for ("(5m, 1h)"). */
export function thresholdText(th: Threshold, lang: Lang = uiLang()): string {
  const band = bandKeys[th.op];
  const text =
    band && th.upper !== undefined && th.upper !== null
      ? t(band, { lower: num(th.value), upper: num(th.upper) }, lang)
      : `${th.op} ${num(th.value)}`;
  return th.series ? t('plan.threshold.series', { threshold: text, series: th.series }, lang) : text;
}

/** What a Grafana rule's data query is: its refId and data source. */
function queryHead(q: GrafanaQuery): string {
  const ds = q.datasourceName || q.datasourceUid;
  return q.datasourceType ? `${q.refId} · ${ds} (${q.datasourceType})` : `${q.refId} · ${ds}`;
}

/**
 * A chart plan in words: what is charted (the rule, how it was found, the
 * query, its parts and thresholds — bands as ranges), the series it is
 * narrowed to, the window the rule asked for, the range actually drawn and
 * why, what fell back; for a Grafana-managed rule also its expression
 * chain, its data queries as run and the labels a series must carry. The
 * whole plan is in the JSON below it.
 */
export function PlanView({ plan }: { plan: Plan }) {
  const s = useStyles2(getStyles);
  const rows: Array<[string, React.ReactNode, string?]> = [];
  const add = (label: string, v: React.ReactNode, testId?: string) => {
    if (v !== undefined && v !== null && v !== '' && v !== false) {
      rows.push([label, v, testId]);
    }
  };
  const weak = (v: React.ReactNode) => <span className={s.aside}>{v}</span>;

  add(t('plan.title'), plan.title);
  add(
    t('plan.rule'),
    plan.rule?.name
      ? plan.rule.for
        ? t('plan.ruleFor', { name: plan.rule.name, for: goSpan(plan.rule.for) ?? String(plan.rule.for) })
        : plan.rule.name
      : undefined
  );
  add(t('plan.source'), plan.source && tOr(`plan.source.${plan.source}`, plan.source));
  add(
    t('plan.evaluator'),
    plan.evaluator ? (
      <>
        {tOr(`plan.evaluator.${plan.evaluator}`, plan.evaluator)}
        {plan.evaluatorLabels?.length
          ? weak(t('plan.evaluatorLabels', { labels: plan.evaluatorLabels.join(', ') }))
          : null}
      </>
    ) : undefined,
    'plan-evaluator'
  );
  add(t('plan.expr'), plan.expr && <code>{plan.expr}</code>);
  add(t('plan.query'), plan.query && <code>{plan.query}</code>);
  if (plan.parts && plan.parts.length > 1) {
    add(
      t('plan.parts'),
      <ul className={s.list}>
        {plan.parts.map((p, i) => (
          <li key={i}>
            <strong>{p.name}</strong> <code>{p.query}</code>
            {p.thresholds?.length ? weak(p.thresholds.map((th) => thresholdText(th)).join(', ')) : null}
          </li>
        ))}
      </ul>,
      'plan-parts'
    );
  }
  add(
    t('plan.thresholds'),
    plan.thresholds?.length ? plan.thresholds.map((th) => thresholdText(th)).join(', ') : undefined,
    'plan-thresholds'
  );
  add(
    t('plan.references'),
    plan.references?.length ? (
      <ul className={s.list}>
        {plan.references.map((r, i) => (
          <li key={i}>
            <code>
              {r.op} {r.query}
            </code>
          </li>
        ))}
      </ul>
    ) : undefined
  );
  add(
    t('plan.keptFilters'),
    plan.keptFilters?.length ? (
      <>
        <code>{plan.keptFilters.join('; ')}</code>
        {weak(t('plan.keptFilters.note'))}
      </>
    ) : undefined,
    'plan-kept-filters'
  );
  if (plan.grafana) {
    addGrafana(plan.grafana, add, s);
  }
  add(t('plan.injected'), labelText(plan.injectedLabels) || undefined);
  add(
    t('plan.postFilter'),
    labelText(plan.postFilterLabels) ? (
      <>
        {labelText(plan.postFilterLabels)}
        {plan.postFilterOptional?.length
          ? weak(t('plan.postFilterOptional', { labels: plan.postFilterOptional.join(', ') }))
          : null}
      </>
    ) : undefined,
    'plan-post-filter'
  );
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
      <DefinitionList rows={rows} />
      <details>
        <summary>{t('plan.json')}</summary>
        <pre className={s.json}>{JSON.stringify(plan, null, 2)}</pre>
      </details>
    </Stack>
  );
}

/** The rows particular to a Grafana-managed rule. */
function addGrafana(
  g: GrafanaPlan,
  add: (label: string, v: React.ReactNode, testId?: string) => void,
  s: ReturnType<typeof getStyles>
) {
  add(
    t('plan.grafana.rule'),
    <>
      <TextLink href={`${config.appSubUrl ?? ''}/alerting/grafana/${encodeURIComponent(g.ruleUid)}/view`} inline>
        {t('plan.grafana.open')}
      </TextLink>{' '}
      <span className={s.weak}>
        {g.condition ? t('plan.grafana.condition', { uid: g.ruleUid, ref: g.condition }) : g.ruleUid}
      </span>
    </>,
    'plan-grafana-rule'
  );
  add(
    t('plan.grafana.chain'),
    g.chain?.length ? (
      <ul className={s.list}>
        {g.chain.map((c, i) => (
          <li key={i}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
    ) : undefined,
    'plan-grafana-chain'
  );
  add(
    t('plan.grafana.queries'),
    g.queries?.length ? (
      <ul className={s.list}>
        {g.queries.map((q, i) => (
          <li key={i}>
            <div>{queryHead(q)}</div>
            {q.expr && <code className={s.block}>{q.expr}</code>}
            {q.query && q.query !== q.expr && (
              <div>
                <span className={s.weak}>{t('plan.grafana.runAs')} </span>
                <code>{q.query}</code>
              </div>
            )}
          </li>
        ))}
      </ul>
    ) : undefined,
    'plan-grafana-queries'
  );
  const match = labelText(g.match);
  const matchAny = Object.entries(g.matchAny ?? {})
    .map(([k, vs]) => `${k}=~"${vs.join('|')}"`)
    .join(', ');
  add(
    t('plan.grafana.match'),
    g.anySeries ? t('plan.grafana.anySeries') : [match, matchAny].filter(Boolean).join(', ') || undefined,
    'plan-grafana-match'
  );
  const range = goSpan(g.relativeRange);
  add(t('plan.grafana.relativeRange'), range && t('plan.grafana.lastSpan', { span: range }));
  const values = Object.entries(g.values ?? {})
    .map(([k, v]) => `${k} = ${num(v)}`)
    .join(', ');
  add(t('plan.grafana.values'), values || undefined, 'plan-grafana-values');
}

const getStyles = (theme: GrafanaTheme2) => ({
  weak: css({ color: theme.colors.text.secondary }),
  aside: css({ color: theme.colors.text.secondary, marginLeft: theme.spacing(0.5) }),
  list: css({ margin: 0, paddingLeft: theme.spacing(2) }),
  block: css({ display: 'block', whiteSpace: 'pre-wrap', wordBreak: 'break-word' }),
  json: css({ maxHeight: 300, overflow: 'auto' }),
});
