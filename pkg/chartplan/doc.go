// Package chartplan decides what chart an alert gets: which rule fired it,
// which PromQL draws exactly the misbehaving series, which thresholds to
// draw, and over which time range. It is the part of AlertChart that turns
// "HighCPU fired" into "this instance's CPU over the last 10 minutes, with
// the 80% line".
//
// # Finding the rule
//
// Alertmanager's webhook carries no expression and no `for`. The planner
// reads the expression from the alert's generatorURL (g0.expr of
// Prometheus' /graph link) and asks the rules API
// (GET /api/v1/rules?type=alert&rule_name[]=<alertname>) for the rules with
// the alert's name. It then tries, in order:
//
//  1. rules_api: the rule whose name AND expression match (two rules named
//     HighCPU with "> 80" and "> 90" each resolve to their own `for` and
//     threshold). A rule's static labels (severity: critical) must also be
//     on the alert.
//  2. rules_api_name_only: the only rule with that name whose static labels
//     fit the alert (used when the generatorURL carries no expression, as
//     with vmalert's default, Grafana-managed rules or Thanos ruler links).
//  3. rules_api_active_alert: the only rule that lists a pending/firing alert
//     with exactly the alert's labels.
//  4. generator_url: the rules API is unreachable or has no fitting rule;
//     the generatorURL's expression is charted with the minimum window.
//  5. annotation: only a chart_query annotation is available.
//
// Otherwise the plan has a NoChartReason and only the text is sent. Rules
// API answers are cached per alert name (prometheus.rulesCacheTtl, default
// 30s; failures for at most 5s) and concurrent look-ups share one request,
// so an alert storm makes one call per alert name. Explain (POST /explain)
// first fills the cache for all the payload's names with one request
// (rule_name[] for up to 50 names, every alerting rule beyond): 3,000
// distinct alerts cost one rules API call, not 3,000.
//
// # Rewriting the query
//
// The expression is parsed with the Prometheus PromQL parser and rewritten
// on its AST:
//
//   - Comparisons against a scalar are stripped wherever the alert's result
//     is decided: at the root, inside parentheses, on both operands of `or`
//     and on the left operand of `and`/`unless`, with or without `bool`, with
//     the scalar on either side ("80 < x" is recorded as "> 80"). Each
//     constant threshold (including folded expressions such as
//     14.4 * (1 - 0.999)) is kept with its operator to be drawn.
//   - Inside an aggregation that is monotone for the comparison —
//     max(x > t), min(x < t), topk(k, x > t), bottomk(k, x < t), as Sloth's
//     max(… > t) without (sloth_window) — the comparison is stripped too and
//     its threshold drawn: the aggregate of the filtered set is the filtered
//     aggregate. Inside other aggregations (sum(x > t), count(up == 0),
//     avg(x < t)) it chooses what is aggregated: the expression is charted
//     as written and KeptFilters says so; no line is drawn for it.
//   - The operands of `or` and the windows of a multi-window tier (a > t and
//     b > t, where a and b differ only in numbers and durations: rate5m and
//     rate1h, [5m] and [1h]) become Parts, fetched one by one so `or`
//     merges none of them, each named by what tells it apart ("5m") and
//     drawn against its own thresholds ("> 1.44% (5m, 1h)"). Labels a
//     window's `and` ignores (sloth_window) are its own and not narrowed.
//   - Any other right operand of `and`/`unless` is a gate, not the value: it
//     is removed from the chart and listed in Conditions.
//   - In a comparison with another series or a non-constant scalar
//     (spec != available, x < y offset 1w * 0.5, x > scalar(avg(x)) * 2,
//     x > on() group_left quantile(0.9, x), with or without bool) the left
//     side is charted and the right side becomes a Reference query (a
//     scalar wrapped in vector()), narrowed on the labels both sides are
//     matched on, and fetched as a moving threshold.
//   - absent(x) and absent_over_time(x[5m]) chart x itself, with a note that
//     an empty chart is expected; `up == 0` charts up with a "== 0" line.
//   - An operand of `or` that cannot carry a label the alert has — a
//     constant fallback such as `or vector(0)`, a sum over that label — is
//     not the alert's series and is not charted (Dropped), as long as
//     another operand can carry them all.
//   - The alert's identifying labels (its labels minus alertname, minus the
//     rule's own `labels:`, minus prometheus.externalLabels, minus the labels
//     the evaluator added) are injected as equality matchers into every
//     selector from which the label provably reaches the result: through
//     by/without, on/ignoring, group_left/group_right, label-preserving
//     functions; not through label_replace's target label, absent,
//     count_values' label or topk outside its groups. Labels aggregated away
//     are not needed. Labels that cannot be injected safely are checked on
//     the returned series instead (PostFilter), strictly: a series that lacks
//     a label the alert carries is not the alert's series. When the rule is
//     unknown, only labels the expression names itself are injected and the
//     rest post-filtered as optional (PostFilterOptional: the rule may have
//     added them).
//
// # Grafana-managed rules
//
// An alert of Grafana Alerting carries no expression. It is recognised by
// the rule UID its Grafana webhook names (ruleUID, kept by intake), the
// private __alert_rule_uid__ label an external Alertmanager receives, its
// generatorURL (<root_url>/alerting/grafana/<uid>/view, older
// …/alerting/<uid>/edit) or the __alert_rule_uid__ matcher of its
// silenceURL. The rule is read from Grafana with the plugin's credentials
// (pkg/grafana: the provisioning API, or rules.alerting.grafana.app where
// Grafana serves it and refuses the former), cached like rules API answers
// (source rules_api → grafana_rule). Then:
//
//   - the expression chain is walked from the rule's condition down to its
//     data queries: reduce and resample keep the value, a threshold
//     expression (gt, lt, eq, ne, gte, lte, within_range, outside_range and
//     their _included forms) and math comparisons of an input with a
//     constant ("$B > 80 && $B < 99") give thresholds — ranges become bands
//     — and classic conditions give theirs per query (they fire on any
//     series and leave the alert no series labels, so every series is
//     charted). Math that computes a new value charts its inputs without
//     lines; the chain is in the plan (grafana.chain);
//   - each data query with a real data source (not __expr__) is charted,
//     its data source read to learn its type (a deleted one: no chart, said
//     plainly). Prometheus-type queries get the alert's identifying labels
//     injected on the AST as above and run as range queries; any other
//     data source's query runs as the rule runs it and the returned series
//     are kept when their labels are the alert's: every identifying label
//     (the alert's labels minus alertname, grafana_folder and the rule's
//     own labels) that the query's data has, with the alert's value, and
//     no label the alert lacks;
//   - the window is for × multiplier like any rule, and never shorter than
//     the relative time range the rule evaluates (a SQL query's or a range
//     query's; an instant PromQL query evaluates one instant);
//   - the data comes through Grafana's POST /api/ds/query (the rule's query
//     models, over the chart's range, at the chart's step), frames read
//     with the plugin SDK (wide frames, long frames turned wide).
//
// A rule the plugin may not read (403), a deleted rule or data source, or
// no Grafana access at all (standalone) give a plan without a chart whose
// NoChartReason says which; the text goes regardless. DatasourceNoData and
// DatasourceError alerts chart their rule's queries titled with the rule's
// name.
//
// # Labels the evaluator adds
//
// The evaluator is recognised from the generatorURL (vmalert's
// /vmalert/alert?group_id=…&alert_id=… and older …/api/v1/<group>/<alert>/status
// links, Grafana's /alerting/grafana/<uid>/view) and from the fields only
// its rules API sends (vmalert's group id, Thanos' partialResponseStrategy,
// Mimir's and Cortex' sourceTenants). Its labels are never injected:
// vmalert's alertgroup and group labels, Grafana's grafana_folder, and every
// label the webhook alert carries that the rules API's copy of the same
// active alert lacks (external labels of Prometheus, Thanos ruler, Mimir and
// Cortex tenants, vmalert -external.label). What cannot be known before
// querying, the data tells: when the chart comes back empty, Fetch probes
// the query without injection and with one injected label at a time,
// drops the labels no series carries, checks them on the returned series
// instead and says so in the plan.
//
// # Time window
//
// The chart covers the rule's `for` × chart.windowMultiplier (default 2),
// clamped to [chart.minWindow, chart.maxWindow] (default 10m, 24h); `for: 0`
// and unknown rules use the minimum. Firing alerts end now; resolved alerts
// end shortly after endsAt. The range always reaches back past startsAt
// (capped at 30 days). The step is the smallest round step giving at most
// 1000 points (400–1000 for windows above a few minutes). When the range
// is longer than the window, the plan's rangeReason says why (the alert
// started earlier; the 30-day cap) and at which step. The title is the
// alert name with the span: "HighCPU (最近10分钟)" or "HighCPU (last 10m)".
//
// # Words
//
// A plan is worded in chart.language; Plan.In words a copy in another
// language (a channel's), so an alert is planned once and titled for each
// channel: the title, the span ("最近10分钟" / "last 10m", i18n.Duration)
// and the no-data note come from the catalogue (pkg/i18n). Fallbacks,
// rangeReason, keptFilters and noChartReason are records for whoever
// debugs the chart and stay in English. A plan without a chart also says
// which kind of reason it is (Plan.NoChart, a nochart.Reason), so that a
// chat gets a short note in its own language, or none when the reason is
// one health reports for all alerts.
//
// # Annotations
//
// A rule can steer its chart with annotations:
//
//	chart_query:     PromQL drawn instead of the rewritten expression, used
//	                 as written (Prometheus expands {{ $labels.x }} in it).
//	chart_window:    span of the chart, e.g. "30m" or "6h" (at least 1m, at
//	                 most chart.maxWindow); replaces for × multiplier.
//	chart_unit:      unit of the values, e.g. "percent", "bytes", "s",
//	                 passed to the renderers for axis formatting.
//	chart_legend:    legend format, e.g. "{{instance}} {{device}}".
//	chart_threshold: threshold lines, e.g. "90" or "> 90, < 10"; replaces the
//	                 thresholds taken from the expression.
//	chart_disable:   "true" sends this alert without a chart.
//
// # Fetching
//
// Planner.Fetch runs the range query (each part on its own) within the
// data source timeout, applies the post-filter, names the series — with the
// legend format, else like Grafana's automatic legend by the labels that
// differ between them, else by the alert's identifying labels ("web-1",
// "5m") — and keeps the chart.maxSeries (default 10) with the highest last
// value; FetchResult
// reports how many were filtered out and dropped. A plan is JSON and is
// what POST /explain returns, fallbacks included.
//
// # Files
//
// planner.go (Planner, Plan in its four steps, Prefetch, Explain) and
// plan.go (the Plan it returns); rules.go (step 1: the alert's rule among
// the rules API's answer, and the expression in its generatorURL), cache.go
// (those answers cached per alert name), evaluator.go (which evaluator sent
// the alert); query.go (step 2 for a Prometheus rule) over the rewriter:
// rewrite.go (parse, rewrite, the Rewrite it returns), strip.go (removing
// the alerting comparisons), threshold.go (the constants they compared
// with), parts.go (one part per operand of `or`), inject.go (the alert's
// labels as matchers); window.go (step 3, the time range and its title);
// fetch.go (the range query and series naming); overview.go (one chart for
// a digest's alerts); grafana.go, grafanachain.go, grafanaquery.go and
// grafanafetch.go (the same steps for Grafana-managed rules).
package chartplan
