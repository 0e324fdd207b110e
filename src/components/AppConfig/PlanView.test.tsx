import React from 'react';
import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import type { Plan } from '../../api/types';
import { config, setLanguage } from '../../test/runtime';
import { PlanView, thresholdText } from './PlanView';

const end = '2026-11-25T02:25:00Z';
/** The fields every plan has (chartplan.Plan without omitempty). */
const base: Plan = {
  alert: { name: 'HighCPU', status: 'firing', labels: { alertname: 'HighCPU' }, startsAt: end },
  source: 'rules_api',
  start: '2026-11-25T02:15:00Z',
  end,
  step: '15s',
  window: '10m0s',
  title: 'HighCPU',
  timezone: 'UTC',
  language: 'en',
};
const old: Plan = {
  ...base,
  query: 'cpu_usage{instance="node1:9100"}',
  start: '2026-11-11T02:15:00Z',
  step: '30m0s',
  rangeReason: 'widened to include the alert’s start 14 days ago',
};

// A Grafana-managed SQL rule with a within_range condition, as chartplan plans it.
const grafanaPlan: Plan = {
  ...base,
  alert: { ...base.alert, name: 'DiskBusy', labels: { alertname: 'DiskBusy', host: 'db-1', grafana_folder: 'Ops' } },
  source: 'grafana_rule',
  evaluator: 'grafana',
  evaluatorLabels: ['grafana_folder'],
  rule: { name: 'DiskBusy', expr: '$B within_range 40 95', for: '5m0s' },
  thresholds: [{ op: 'within_range', value: 40, upper: 95 }],
  grafana: {
    ruleUid: 'disk-busy-uid',
    api: 'provisioning',
    folderUid: 'ops',
    condition: 'C',
    chain: ['C: threshold B within_range 40 95', 'B: reduce last(A)', 'A: mysql query on MySQL'],
    queries: [
      {
        refId: 'A',
        datasourceUid: 'mysql-1',
        datasourceType: 'mysql',
        datasourceName: 'MySQL',
        expr: 'SELECT time, host AS metric, busy FROM disk',
        model: { rawSql: 'SELECT …' },
      },
    ],
    match: { host: 'db-1' },
    relativeRange: '15m0s',
    values: { B: 97.25, C: 1 },
  },
};

const renderPlan = (plan: Plan) =>
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <PlanView plan={plan} />
    </MemoryRouter>
  );

beforeEach(() => {
  setLanguage('en-US');
  config.appSubUrl = '';
});

test('an old alert’s plan shows the range actually drawn, its step and why it was widened', () => {
  renderPlan(old);
  expect(screen.getByText('Window from the rule').nextSibling).toHaveTextContent('10 min');
  const range = screen.getByTestId('plan-range');
  expect(range).toHaveTextContent('Range drawn');
  expect(range).toHaveTextContent('14 d 10 min, step 30 min');
  expect(screen.getByTestId('plan-range-reason')).toHaveTextContent('widened to include the alert’s start 14 days ago');
});

test('in Chinese', () => {
  setLanguage('zh-Hans');
  renderPlan({ ...old, rangeReason: undefined, rule: { name: 'HighCPU', expr: 'cpu > 80', for: '5m0s' } });
  expect(screen.getByTestId('plan-range')).toHaveTextContent('14 天 10 分钟，步长 30 分钟');
  expect(screen.queryByTestId('plan-range-reason')).not.toBeInTheDocument();
  expect(screen.getByText('HighCPU（持续 5 分钟）')).toBeInTheDocument();
});

test('thresholds in words: lines with their series, bands as ranges', () => {
  expect(thresholdText({ op: '>', value: 80 })).toBe('> 80');
  expect(thresholdText({ op: '>', value: 0.014400000000000001, series: '5m, 1h' })).toBe('> 0.0144 (5m, 1h)');
  expect(thresholdText({ op: 'within_range', value: 40, upper: 95 })).toBe('inside the band 40 – 95');
  expect(thresholdText({ op: 'outside_range', value: 10, upper: 90 })).toBe('outside the band 10 – 90');
  expect(thresholdText({ op: 'within_range_included', value: 40, upper: 95 })).toBe(
    'inside the band 40 – 95, edges included'
  );
  expect(thresholdText({ op: 'outside_range_included', value: 10, upper: 90 })).toBe(
    'outside the band 10 – 90, edges included'
  );
  expect(thresholdText({ op: 'outside_range', value: 10, upper: 90 }, 'zh')).toBe('在 10 – 90 区间外');
});

test('a burn-rate tier: its parts, thresholds, kept filters, evaluator and optional post-filter labels', () => {
  renderPlan({
    ...base,
    source: 'rules_api',
    evaluator: 'vmalert',
    evaluatorLabels: ['alertgroup'],
    query: 'slo:err:ratio_rate5m{service="api"} or slo:err:ratio_rate1h{service="api"}',
    parts: [
      { name: '5m', query: 'slo:err:ratio_rate5m{service="api"}', thresholds: [{ op: '>', value: 0.0144 }] },
      { name: '1h', query: 'slo:err:ratio_rate1h{service="api"}', thresholds: [{ op: '>', value: 0.0144 }] },
    ],
    thresholds: [{ op: '>', value: 0.0144, series: '5m, 1h' }],
    keptFilters: ['sum(rate(x[5m]) > 5)'],
    postFilterLabels: { service: 'api', team: 'core' },
    postFilterOptional: ['team'],
  });
  expect(screen.getByTestId('plan-evaluator')).toHaveTextContent(
    'vmalert· labels it added, never used to narrow: alertgroup'
  );
  expect(screen.getByTestId('plan-parts')).toHaveTextContent('5m slo:err:ratio_rate5m{service="api"}> 0.0144');
  expect(screen.getByTestId('plan-thresholds')).toHaveTextContent('> 0.0144 (5m, 1h)');
  expect(screen.getByTestId('plan-kept-filters')).toHaveTextContent('sum(rate(x[5m]) > 5)');
  expect(screen.getByTestId('plan-post-filter')).toHaveTextContent('service="api", team="core"· may be missing: team');
});

test('a Grafana-managed rule: its rule link, expression chain, data queries, labels and values', () => {
  config.appSubUrl = '/grafana';
  renderPlan(grafanaPlan);
  expect(screen.getByText('the Grafana alert rule named in the alert (its UID)')).toBeInTheDocument();
  expect(screen.getByTestId('plan-evaluator')).toHaveTextContent('Grafana Alerting');
  expect(screen.getByTestId('plan-thresholds')).toHaveTextContent('inside the band 40 – 95');
  expect(screen.getByRole('link', { name: 'open the rule' })).toHaveAttribute(
    'href',
    '/grafana/alerting/grafana/disk-busy-uid/view'
  );
  expect(screen.getByTestId('plan-grafana-rule')).toHaveTextContent('disk-busy-uid, decided by C');
  expect(screen.getByTestId('plan-grafana-chain')).toHaveTextContent(
    'C: threshold B within_range 40 95B: reduce last(A)A: mysql query on MySQL'
  );
  const queries = screen.getByTestId('plan-grafana-queries');
  expect(queries).toHaveTextContent('A · MySQL (mysql)SELECT time, host AS metric, busy FROM disk');
  expect(queries).not.toHaveTextContent('run as');
  expect(screen.getByTestId('plan-grafana-match')).toHaveTextContent('host="db-1"');
  expect(screen.getByText('last 15 min (the window is never shorter)')).toBeInTheDocument();
  expect(screen.getByTestId('plan-grafana-values')).toHaveTextContent('B = 97.25, C = 1');
  // The query model is only in the plan's JSON.
  expect(queries).not.toHaveTextContent('rawSql');
  expect(screen.getByText(/"rawSql"/).closest('details')).not.toHaveAttribute('open');
});

test('a Prometheus query of a Grafana rule shows what is run; a classic condition charts every series', () => {
  setLanguage('zh-Hans');
  renderPlan({
    ...grafanaPlan,
    grafana: {
      ruleUid: 'cpu-uid',
      anySeries: true,
      queries: [
        {
          refId: 'A',
          datasourceUid: 'prom',
          datasourceType: 'prometheus',
          expr: 'node_load1',
          query: 'node_load1{instance="web-1"}',
          injectedLabels: { instance: 'web-1' },
          model: null,
        },
      ],
    },
  });
  expect(screen.getByTestId('plan-grafana-queries')).toHaveTextContent(
    'A · prom (prometheus)node_load1实际执行 node_load1{instance="web-1"}'
  );
  expect(screen.getByTestId('plan-grafana-match')).toHaveTextContent('无：告警代表其查询的所有序列（经典条件）');
  expect(screen.getByTestId('plan-thresholds')).toHaveTextContent('在 40 – 95 区间内');
});
