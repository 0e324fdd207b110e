package chartplan

import (
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Injecting the alert's labels: the matchers, and narrow, which decides into
// which selectors a filter on a label can be pushed without changing which
// series survive; a label that cannot be pushed is post-filtered instead.

// valuesMatcher is name="v" for one value and name=~"a|b" for several
// (vals distinct and sorted):
// PromQL regexes are fully anchored, and each value is escaped, so the
// union matches exactly the listed values.
func valuesMatcher(name string, vals []string) (*labels.Matcher, error) {
	if len(vals) == 1 {
		return labels.NewMatcher(labels.MatchEqual, name, vals[0])
	}
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return labels.NewMatcher(labels.MatchRegexp, name, strings.Join(quoted, "|"))
}

// sortedValues returns the distinct values sorted, so the same alerts
// always give the same query.
func sortedValues(vals []string) []string {
	out := append([]string(nil), vals...)
	sort.Strings(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}

func addMatcher(vs *parser.VectorSelector, m *labels.Matcher) {
	for _, x := range vs.LabelMatchers {
		if x.Name == m.Name && x.Type == m.Type && x.Value == m.Value {
			return
		}
	}
	vs.LabelMatchers = append(vs.LabelMatchers, m)
}

// narrowing is the answer of narrow for one label.
type narrowing struct {
	// ok: adding `label="v"` to sels keeps exactly the result series that
	// carry label=v (or that cannot carry the label at all).
	ok   bool
	sels []*parser.VectorSelector
}

var unsafe = narrowing{}

func okWith(parts ...narrowing) narrowing {
	out := narrowing{ok: true}
	for _, p := range parts {
		out.sels = append(out.sels, p.sels...)
	}
	return out
}

// narrow decides whether filtering e's result on label name can be pushed
// down into e's vector selectors, and into which ones. It is conservative:
// whenever the label might be created, rewritten or dropped on the way up,
// or the filter would change which other series survive, it says unsafe and
// the planner post-filters instead.
func narrow(e parser.Expr, name string) narrowing {
	switch n := e.(type) {
	case *parser.VectorSelector:
		return narrowing{ok: true, sels: []*parser.VectorSelector{n}}
	case *parser.MatrixSelector:
		return narrow(n.VectorSelector, name)
	case *parser.SubqueryExpr:
		return narrow(n.Expr, name)
	case *parser.ParenExpr:
		return narrow(n.Expr, name)
	case *parser.StepInvariantExpr:
		return narrow(n.Expr, name)
	case *parser.UnaryExpr:
		return narrow(n.Expr, name)
	case *parser.NumberLiteral, *parser.StringLiteral, *parser.DurationExpr:
		return narrowing{ok: true}
	case *parser.AggregateExpr:
		return narrowAggregate(n, name)
	case *parser.Call:
		return narrowCall(n, name)
	case *parser.BinaryExpr:
		return narrowBinary(n, name)
	}
	return unsafe
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func narrowAggregate(n *parser.AggregateExpr, name string) narrowing {
	kept := contains(n.Grouping, name) != n.Without // by(name) or without(other)
	switch n.Op {
	case parser.COUNT_VALUES:
		if s, ok := n.Param.(*parser.StringLiteral); !ok || s.Val == name {
			return unsafe // the label is created from sample values
		}
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		// These keep every label of the chosen series; filtering the input
		// on a label outside the ranking groups changes which series win.
		if !kept {
			return unsafe
		}
		return narrow(n.Expr, name)
	}
	if !kept {
		return narrowing{ok: true} // aggregated away: never on the result
	}
	return narrow(n.Expr, name)
}

// labelPreserving lists functions whose output series keep their input's
// labels (apart from __name__).
var labelPreserving = map[string]bool{
	"abs": true, "ceil": true, "floor": true, "exp": true, "ln": true, "log2": true, "log10": true,
	"sqrt": true, "round": true, "sgn": true, "clamp": true, "clamp_min": true, "clamp_max": true,
	"deg": true, "rad": true, "sin": true, "cos": true, "tan": true, "asin": true, "acos": true,
	"atan": true, "sinh": true, "cosh": true, "tanh": true, "asinh": true, "acosh": true, "atanh": true,
	"changes": true, "resets": true, "delta": true, "idelta": true, "deriv": true, "increase": true,
	"irate": true, "rate": true, "predict_linear": true, "holt_winters": true,
	"double_exponential_smoothing": true, "timestamp": true, "sort": true, "sort_desc": true,
	"sort_by_label": true, "sort_by_label_desc": true,
	"avg_over_time": true, "min_over_time": true, "max_over_time": true, "sum_over_time": true,
	"count_over_time": true, "quantile_over_time": true, "stddev_over_time": true,
	"stdvar_over_time": true, "last_over_time": true, "present_over_time": true, "mad_over_time": true,
	"first_over_time": true, "ts_of_min_over_time": true, "ts_of_max_over_time": true,
	"ts_of_last_over_time": true, "ts_of_first_over_time": true,
	"histogram_count": true, "histogram_sum": true, "histogram_avg": true, "histogram_stddev": true,
	"histogram_stdvar": true, "histogram_fraction": true, "histogram_quantile": true,
	"day_of_month": true, "day_of_week": true, "day_of_year": true, "days_in_month": true,
	"hour": true, "minute": true, "month": true, "year": true,
}

func narrowCall(n *parser.Call, name string) narrowing {
	if n.Func == nil {
		return unsafe
	}
	fn := n.Func.Name
	switch fn {
	case "vector", "time", "pi", "scalar":
		return narrowing{ok: true} // no labels on the result
	case "label_replace", "label_join":
		if len(n.Args) < 2 {
			return unsafe
		}
		dst, ok := n.Args[1].(*parser.StringLiteral)
		if !ok || dst.Val == name {
			return unsafe
		}
		return narrow(n.Args[0], name)
	case "histogram_quantile", "histogram_fraction":
		if name == "le" {
			return narrowing{ok: true} // classic-histogram buckets are folded away
		}
	}
	if !labelPreserving[fn] {
		return unsafe // absent, info and anything unknown synthesise labels
	}
	parts := []narrowing{}
	for _, a := range n.Args {
		switch a.Type() {
		case parser.ValueTypeVector, parser.ValueTypeMatrix:
			p := narrow(a, name)
			if !p.ok {
				return unsafe
			}
			parts = append(parts, p)
		}
	}
	return okWith(parts...)
}

// isMatchingLabel reports whether two sides are matched on name, i.e. a
// matched pair always agrees on it.
func isMatchingLabel(vm *parser.VectorMatching, name string) bool {
	if vm == nil {
		return true
	}
	if vm.On {
		return contains(vm.MatchingLabels, name)
	}
	return !contains(vm.MatchingLabels, name)
}

func narrowBinary(n *parser.BinaryExpr, name string) narrowing {
	lVec := n.LHS.Type() == parser.ValueTypeVector
	rVec := n.RHS.Type() == parser.ValueTypeVector
	switch {
	case !lVec && !rVec:
		return narrowing{ok: true}
	case !rVec:
		return narrow(n.LHS, name)
	case !lVec:
		return narrow(n.RHS, name)
	}
	vm := n.VectorMatching
	matching := isMatchingLabel(vm, name)
	switch n.Op {
	case parser.LAND, parser.LUNLESS:
		// The result is the left side's series; a matched right series
		// shares the label when it is a matching label, so filtering the
		// right side too changes nothing and saves work.
		l := narrow(n.LHS, name)
		if !l.ok {
			return unsafe
		}
		if matching {
			if r := narrow(n.RHS, name); r.ok {
				return okWith(l, r)
			}
		}
		return l
	case parser.LOR:
		if !matching {
			return unsafe // a dropped left series may stop hiding a right one
		}
		l, r := narrow(n.LHS, name), narrow(n.RHS, name)
		if !l.ok || !r.ok {
			return unsafe
		}
		return okWith(l, r)
	}
	// Arithmetic and vector-vector comparisons.
	card := parser.CardOneToOne
	var include []string
	if vm != nil {
		card, include = vm.Card, vm.Include
	}
	many, one := n.LHS, n.RHS
	if card == parser.CardOneToMany {
		many, one = n.RHS, n.LHS
	}
	switch card {
	case parser.CardOneToOne:
		if vm != nil && vm.On && !contains(vm.MatchingLabels, name) {
			return narrowing{ok: true} // only on() labels survive
		}
		if vm != nil && !vm.On && contains(vm.MatchingLabels, name) {
			return narrowing{ok: true} // ignoring() drops it
		}
		// The result carries the left side's value of a matching label, so
		// filtering the left side is enough; the right side is filtered too
		// when that is safe, to fetch less.
		l := narrow(n.LHS, name)
		if !l.ok {
			return unsafe
		}
		if r := narrow(n.RHS, name); r.ok {
			return okWith(l, r)
		}
		return l
	case parser.CardManyToOne, parser.CardOneToMany:
		if contains(include, name) {
			// Copied from the "one" side; filtering it drops the many-side
			// series that would have been labelled otherwise.
			return narrow(one, name)
		}
		m := narrow(many, name)
		if !m.ok {
			return unsafe
		}
		if matching {
			if o := narrow(one, name); o.ok {
				return okWith(m, o)
			}
		}
		return m
	}
	return unsafe
}
