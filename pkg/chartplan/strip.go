package chartplan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alertchart/alertchart/pkg/series"
)

// Stripping the alerting comparisons: the walk down an expression's top
// chain that keeps what the chart draws and records what it does not (gates,
// references, filters kept inside aggregations), so the plan can say so.

// stripper removes the alerting comparisons along the "top chain" of an
// expression: the root, through parentheses, the operands of and/or/
// unless and monotone aggregations (max(x > t), min(x < t), topk(k, x > t)).
// Comparisons deeper inside (count(up == 0), max_over_time((x > 1)[5m:]))
// are part of what is measured and stay.
//
// It splits the expression into parts: the operands of `or` and the windows
// of a multi-window tier (a > t and b > t, where a and b differ only in a
// window), each with the thresholds stripped from it. The parts are charted
// as separate queries, so series that `or` would merge are all drawn, each
// against its own threshold.
type stripper struct {
	thresholds  []series.Threshold
	conditions  []string
	absentOf    []string
	keptFilters []string
	refs        []refCandidate
}

// refCandidate is the series side of a vector-vs-vector comparison, or a
// non-constant scalar (wrapped in vector()) the series are compared with.
type refCandidate struct {
	op     string
	expr   parser.Expr
	vm     *parser.VectorMatching
	scalar bool // a global moving threshold: never narrowed to the alert's labels
}

func (s *stripper) merge(o *stripper) {
	s.thresholds = append(s.thresholds, o.thresholds...)
	s.conditions = append(s.conditions, o.conditions...)
	s.absentOf = append(s.absentOf, o.absentOf...)
	s.keptFilters = append(s.keptFilters, o.keptFilters...)
	s.refs = append(s.refs, o.refs...)
}

func (s *stripper) parts(e parser.Expr) []part {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return s.parts(n.Expr)
	case *parser.Call:
		if inner := absentInner(n); inner != nil {
			// absent(up{job="x"} == 1) watches up{job="x"}: chart that.
			ps := s.parts(inner)
			for _, p := range ps {
				s.absentOf = append(s.absentOf, unwrapParens(p.expr).String())
			}
			return ps
		}
	case *parser.AggregateExpr:
		return s.aggregate(n)
	case *parser.BinaryExpr:
		switch {
		case n.Op.IsComparisonOperator():
			return s.comparison(n)
		case n.Op == parser.LAND:
			return s.and(n)
		case n.Op == parser.LUNLESS:
			lhs := s.parts(n.LHS)
			s.conditions = append(s.conditions, n.Op.String()+matchingString(n.VectorMatching)+" "+n.RHS.String())
			return lhs
		case n.Op == parser.LOR:
			lhs := s.parts(n.LHS)
			rhs := s.parts(n.RHS)
			if len(rhs) > 0 {
				rhs[0].vm = n.VectorMatching
			}
			return append(lhs, rhs...)
		}
	}
	return []part{{expr: e}}
}

// and keeps the left operand. The right one is another window of the same
// tier when it compares the same kind of value (the same expression up to
// numbers and durations) with the same thresholds — burn-rate alerts'
// "short window > t and long window > t" — and is charted too; otherwise it
// is a gate, listed in Conditions.
func (s *stripper) and(n *parser.BinaryExpr) []part {
	lhs := s.parts(n.LHS)
	sub := &stripper{}
	rhs := sub.parts(n.RHS)
	if isWindowOf(lhs, rhs) {
		s.merge(sub)
		if len(rhs) > 0 {
			rhs[0].vm = nil
		}
		for i := range rhs {
			rhs[i].joins = append(rhs[i].joins, n.VectorMatching)
		}
		return append(lhs, rhs...)
	}
	s.conditions = append(s.conditions, n.Op.String()+matchingString(n.VectorMatching)+" "+n.RHS.String())
	return lhs
}

// shapeNumbers matches the numbers and durations that tell windows apart
// (rate5m / rate1h, [5m] / [1h]).
var shapeNumbers = regexp.MustCompile(`[0-9]+(\.[0-9]+)?(ms|[smhdwy])?`)

func shape(e parser.Expr) string {
	return shapeNumbers.ReplaceAllString(unwrapParens(e).String(), "#")
}

func isWindowOf(lhs, rhs []part) bool {
	if len(lhs) == 0 || len(rhs) == 0 || len(lhs[0].th) == 0 {
		return false
	}
	// Thresholds first: comparing them is cheap, printing shapes is not.
	want := thresholdKey(lhs[0].th)
	for _, ps := range [][]part{lhs, rhs} {
		for _, p := range ps {
			if thresholdKey(p.th) != want {
				return false
			}
		}
	}
	sh := shape(lhs[0].expr)
	for _, ps := range [][]part{lhs[1:], rhs} {
		for _, p := range ps {
			if shape(p.expr) != sh {
				return false
			}
		}
	}
	return true
}

// monotoneAggregation reports whether agg(x op t) equals (agg(x) op t), so
// the comparison can be stripped from inside the aggregation: the largest
// value above t is the largest value when that one is above t, and the top
// k above t are the top k that are above t.
func monotoneAggregation(agg, op parser.ItemType) bool {
	switch agg {
	case parser.MAX, parser.TOPK:
		return op == parser.GTR || op == parser.GTE
	case parser.MIN, parser.BOTTOMK:
		return op == parser.LSS || op == parser.LTE
	}
	return false
}

// aggregate strips a comparison directly inside a monotone aggregation
// (max(x > t) without (window)) and draws its threshold. Inside other
// aggregations (sum, count, avg of a filtered set) the comparison selects
// what is aggregated: the expression is charted as written and KeptFilters
// says so.
func (s *stripper) aggregate(n *parser.AggregateExpr) []part {
	inner, ok := unwrapParens(n.Expr).(*parser.BinaryExpr)
	if !ok || !inner.Op.IsComparisonOperator() || inner.ReturnBool {
		return []part{{expr: n}}
	}
	lScalar, rScalar := inner.LHS.Type() == parser.ValueTypeScalar, inner.RHS.Type() == parser.ValueTypeScalar
	if lScalar == rScalar {
		return []part{{expr: n}} // vector against vector: a measurement, not a threshold
	}
	op, scalar := inner.Op, inner.RHS
	if lScalar {
		op, scalar = mirror(op), inner.LHS
	}
	if _, err := evalScalar(scalar); err == nil && monotoneAggregation(n.Op, op) {
		sub := &stripper{}
		if ps := sub.comparison(inner); len(ps) == 1 {
			s.merge(sub)
			agg := *n
			agg.Expr = ps[0].expr
			ps[0].expr = &agg
			return ps
		}
	}
	s.keptFilters = append(s.keptFilters, fmt.Sprintf("%s: %s %s filters each series before %s, so the chart shows the %s of the series that pass and draws no line for it",
		n.String(), op.String(), scalar.String(), n.Op.String(), n.Op.String()))
	return []part{{expr: n}}
}

// absentInner returns X for absent(X) and absent_over_time(X[r]): the data
// whose absence the rule watches.
func absentInner(c *parser.Call) parser.Expr {
	if c.Func == nil || len(c.Args) != 1 {
		return nil
	}
	switch c.Func.Name {
	case "absent":
		return c.Args[0]
	case "absent_over_time":
		switch a := unwrapParens(c.Args[0]).(type) {
		case *parser.MatrixSelector:
			return a.VectorSelector
		case *parser.SubqueryExpr:
			return a.Expr
		}
	}
	return nil
}

// comparison strips one comparison of the top chain and records what it
// compared with: a constant becomes a threshold of the parts below it; a
// non-constant scalar (scalar(avg(x)) * 2) or another vector (x > y,
// on() group_left quantile(0.9, x), with or without bool) becomes a
// reference, fetched and drawn as a moving threshold.
func (s *stripper) comparison(n *parser.BinaryExpr) []part {
	lScalar := n.LHS.Type() == parser.ValueTypeScalar
	rScalar := n.RHS.Type() == parser.ValueTypeScalar
	var ps []part
	var th series.Threshold
	var ok bool
	switch {
	case lScalar && rScalar:
		return []part{{expr: n}}
	case rScalar:
		th, ok = s.threshold(n, n.RHS, n.LHS, false)
		ps = s.parts(n.LHS)
	case lScalar:
		th, ok = s.threshold(n, n.LHS, n.RHS, true)
		ps = s.parts(n.RHS)
	default:
		// Vector against vector (x > y * 0.9, a != b): chart the left side,
		// note the right side as a condition and draw it as a reference.
		op := n.Op.String()
		if n.ReturnBool {
			op += " bool"
		}
		s.conditions = append(s.conditions, op+matchingString(n.VectorMatching)+" "+n.RHS.String())
		if n.RHS.Type() == parser.ValueTypeVector {
			s.refs = append(s.refs, refCandidate{op: n.Op.String(), expr: n.RHS, vm: n.VectorMatching})
		}
		return s.parts(n.LHS)
	}
	if ok {
		for i := range ps {
			ps[i].th = slices.Insert(ps[i].th, 0, th)
		}
	}
	return ps
}

// matchingString renders " on(a, b) group_left(c)" for conditions.
func matchingString(vm *parser.VectorMatching) string {
	if vm == nil {
		return ""
	}
	var b strings.Builder
	if vm.On || len(vm.MatchingLabels) > 0 {
		if vm.On {
			b.WriteString(" on(")
		} else {
			b.WriteString(" ignoring(")
		}
		b.WriteString(strings.Join(vm.MatchingLabels, ", "))
		b.WriteString(")")
	}
	switch vm.Card {
	case parser.CardManyToOne:
		b.WriteString(" group_left(" + strings.Join(vm.Include, ", ") + ")")
	case parser.CardOneToMany:
		b.WriteString(" group_right(" + strings.Join(vm.Include, ", ") + ")")
	}
	return b.String()
}
