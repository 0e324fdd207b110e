package chartplan

import (
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alertchart/alertchart/pkg/i18n"
)

// The chart query of a Prometheus rule: its expression narrowed to the
// alert's identifying labels, leaving out those the rule or the evaluator
// added: no series carries them, and injecting one would empty the chart.

// identifying returns the alert labels that name the abnormal series: all
// of them minus alertname, the rule's own labels and external labels.
func (p *Planner) identifying(pl *Plan) map[string]string {
	ids := map[string]string{}
	for k, v := range pl.Alert.Labels {
		if k == "alertname" || k == model.MetricNameLabel || p.external[k] || slices.Contains(pl.EvaluatorLabels, k) {
			continue
		}
		if pl.Rule != nil {
			if _, ok := pl.Rule.Labels[k]; ok {
				continue
			}
		}
		ids[k] = v
	}
	return ids
}

func (p *Planner) rewrite(pl *Plan, ruleKnown bool) {
	ids := p.identifying(pl)
	var post map[string]string
	if !ruleKnown {
		// Without the rule we do not know which alert labels the rule added
		// (severity, team, …). Inject only labels the expression itself names;
		// check the others on the returned series, where a label the series
		// does not carry cannot cause a wrong drop.
		e, err := ParseExpr(pl.Expr)
		if err == nil {
			named := namedLabels(e)
			post = map[string]string{}
			for k, v := range ids {
				if !named[k] {
					post[k] = v
					delete(ids, k)
				}
			}
		}
	}
	rw, err := RewriteExpr(pl.Expr, ids)
	if err != nil {
		pl.fallback("the expression cannot be rewritten: %v", err)
		return
	}
	pl.Query = rw.Query
	pl.Thresholds = rw.Thresholds
	pl.Conditions = rw.Conditions
	pl.References = rw.References
	pl.InjectedLabels = rw.Injected
	pl.PostFilter = rw.PostFilter
	pl.Parts = rw.Parts
	pl.KeptFilters = rw.KeptFilters
	for k, v := range post {
		if pl.PostFilter == nil {
			pl.PostFilter = map[string]string{}
		}
		pl.PostFilter[k] = v
		pl.PostFilterOptional = append(pl.PostFilterOptional, k)
	}
	sort.Strings(pl.PostFilterOptional)
	if len(rw.PostFilter) > 0 {
		pl.fallback("labels %s cannot be injected safely; filtering the returned series instead", strings.Join(sortedKeys(rw.PostFilter), ", "))
	}
	if len(pl.EvaluatorLabels) > 0 {
		pl.fallback("labels %s were added by the evaluator (%s), not by the data; not injected", strings.Join(pl.EvaluatorLabels, ", "), or(pl.Evaluator, "unknown"))
	}
	for _, d := range rw.Dropped {
		pl.fallback("%s cannot carry the alert's labels (a constant fallback or an aggregate over them): not charted", d)
	}
	for _, k := range rw.KeptFilters {
		pl.fallback("the chart keeps a comparison inside an aggregation: %s", k)
	}
	if len(rw.Parts) > 1 {
		names := make([]string, len(rw.Parts))
		for i, pt := range rw.Parts {
			names[i] = pt.Name
		}
		pl.fallback("the rule alerts on %d expressions (%s); each is fetched on its own and drawn against its own thresholds", len(rw.Parts), strings.Join(names, ", "))
	}
	if len(rw.AbsentOf) > 0 {
		pl.setNoData(i18n.M("chart.nodata.absent", "series", strings.Join(rw.AbsentOf, ", ")))
	}
}

// namedLabels lists label names an expression mentions: matcher names,
// grouping, matching and label-function arguments. Such labels are data
// labels, never labels a rule adds.
func namedLabels(e parser.Expr) map[string]bool {
	out := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch x := n.(type) {
		case *parser.VectorSelector:
			for _, m := range x.LabelMatchers {
				out[m.Name] = true
			}
		case *parser.AggregateExpr:
			if !x.Without {
				for _, g := range x.Grouping {
					out[g] = true
				}
			}
		case *parser.BinaryExpr:
			if x.VectorMatching != nil {
				if x.VectorMatching.On {
					for _, l := range x.VectorMatching.MatchingLabels {
						out[l] = true
					}
				}
				for _, l := range x.VectorMatching.Include {
					out[l] = true
				}
			}
		}
		return nil
	})
	delete(out, model.MetricNameLabel)
	return out
}
