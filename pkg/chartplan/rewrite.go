package chartplan

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alertchart/alertchart/pkg/series"
)

// MaxExprBytes caps the expressions the rewriter accepts; alerting rules are
// far smaller, and parsing cost grows with size.
const MaxExprBytes = 32 << 10

// promql is the one parser configuration used everywhere: it accepts what a
// default Prometheus accepts (experimental functions are enabled too, since
// a rule that loaded in a server with them on must not fail here).
var promql = parser.NewParser(parser.Options{EnableExperimentalFunctions: true})

// ParseExpr parses a PromQL expression. A partial AST returned with an error
// is never used.
func ParseExpr(expr string) (parser.Expr, error) {
	if len(expr) > MaxExprBytes {
		return nil, fmt.Errorf("expression is %d bytes, more than the %d accepted", len(expr), MaxExprBytes)
	}
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Rewrite is the result of turning an alerting expression into a chart query.
type Rewrite struct {
	// Query is the chart query (always parses).
	Query string `json:"query"`
	// Thresholds are the comparisons removed from the alerting expression,
	// normalised so the metric is on the left ("80 < x" becomes "> 80").
	Thresholds []series.Threshold `json:"thresholds,omitempty"`
	// Conditions are parts of the alerting expression the chart does not
	// draw: gates of and/unless, comparisons against other series or against
	// non-constant scalars.
	Conditions []string `json:"conditions,omitempty"`
	// Injected are the label matchers added to the query's selectors.
	Injected map[string]string `json:"injected,omitempty"`
	// InjectedAny are the regex matchers (label=~"a|b") added by
	// RewriteExprAny for labels whose values differ between the alerts.
	InjectedAny map[string][]string `json:"injectedAny,omitempty"`
	// Unnarrowed are the labels RewriteExprAny could not inject safely; the
	// chart shows every value of them (a superset of the alerts' series).
	Unnarrowed []string `json:"unnarrowed,omitempty"`
	// PostFilter are the labels that could not be injected safely; returned
	// series whose value for such a label differs are dropped.
	PostFilter map[string]string `json:"postFilter,omitempty"`
	// References are the other sides of comparisons between two series
	// (x > y * 1.2, spec != available): a dynamic threshold, fetched and
	// drawn as threshold lines.
	References []Reference `json:"references,omitempty"`
	// AbsentOf is set when the expression alerts on missing data
	// (absent/absent_over_time): the chart shows the selector(s) it watched,
	// which are expected to be empty while the alert fires.
	AbsentOf []string `json:"absentOf,omitempty"`
}

// Reference is a query whose series act as a moving threshold.
type Reference struct {
	// Op is the comparison as seen from the charted series ("<" in x < y).
	Op    string `json:"op"`
	Query string `json:"query"`
}

// RewriteExpr strips the alerting comparisons of expr and narrows it to the
// series identified by ids (label name → value). It never returns a query
// that does not parse; an expression that does not parse is an error.
func RewriteExpr(expr string, ids map[string]string) (*Rewrite, error) {
	e, err := ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	sets := make(map[string][]string, len(ids))
	for k, v := range ids {
		sets[k] = []string{v}
	}
	rw, err := rewriteAST(e, sets)
	if errors.Is(err, errUnparseable) && len(ids) > 0 {
		// An injected matcher made the query unprintable (a label the
		// printer cannot write back): chart without injection and filter
		// the returned series instead.
		if e, err = ParseExpr(expr); err != nil {
			return nil, err
		}
		if rw, err = rewriteAST(e, nil); err != nil {
			return nil, err
		}
		rw.PostFilter = map[string]string{}
		for k, v := range ids {
			if k != labels.MetricName && k != "" {
				rw.PostFilter[k] = v
			}
		}
	}
	return rw, err
}

// RewriteExprAny is RewriteExpr for several alerts of one rule at once (a
// storm digest's overview chart): each label of ids is narrowed to any of
// its values, with label="v" when there is one value and label=~"v1|v2"
// (values escaped with regexp.QuoteMeta, sorted) when there are several.
// A label that cannot be pushed into the selectors safely is left out and
// listed in Unnarrowed rather than post-filtered: the chart then shows a
// superset, which Fetch caps to the top series. Several varying labels are
// narrowed independently, so their cross product may add a few series no
// alert named; an overview tolerates that, a wrong drop it would not.
func RewriteExprAny(expr string, ids map[string][]string) (*Rewrite, error) {
	e, err := ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	rw, err := rewriteAST(e, ids)
	if errors.Is(err, errUnparseable) && len(ids) > 0 {
		if e, err = ParseExpr(expr); err != nil {
			return nil, err
		}
		if rw, err = rewriteAST(e, nil); err != nil {
			return nil, err
		}
		for k := range ids {
			if k != labels.MetricName && k != "" {
				rw.Unnarrowed = append(rw.Unnarrowed, k)
			}
		}
		sort.Strings(rw.Unnarrowed)
	}
	return rw, err
}

var errUnparseable = errors.New("rewritten query does not parse")

// rewriteAST strips e and narrows it to ids. A label with one value is
// injected as label="v" (a failure to narrow it goes to PostFilter, which
// checks one value); a label with several values as a regex union (a
// failure goes to Unnarrowed).
func rewriteAST(e parser.Expr, ids map[string][]string) (rw *Rewrite, err error) {
	// The AST walkers below handle every node type the parser produces; the
	// recover is a last line of defence so a parser change can never take
	// down a delivery.
	defer func() {
		if r := recover(); r != nil {
			rw, err = nil, fmt.Errorf("rewriting the expression failed: %v", r)
		}
	}()
	rw = &Rewrite{}
	st := &stripper{rw: rw}
	e = st.strip(e)
	e = unwrapParens(e)
	if e.Type() != parser.ValueTypeVector {
		return nil, fmt.Errorf("the expression is a %s, not an instant vector", e.Type())
	}
	rw.Injected = map[string]string{}
	rw.InjectedAny = map[string][]string{}
	rw.PostFilter = map[string]string{}
	names := make([]string, 0, len(ids))
	matchers := map[string]*labels.Matcher{}
	dedup := make(map[string][]string, len(ids))
	for k, vals := range ids {
		if k == labels.MetricName || k == "" || len(vals) == 0 {
			continue
		}
		vals = sortedValues(vals)
		dedup[k] = vals
		m, err := valuesMatcher(k, vals)
		if err != nil {
			return nil, err
		}
		names = append(names, k)
		matchers[k] = m
	}
	sort.Strings(names)
	for _, name := range names {
		vals := dedup[name]
		res := narrow(e, name)
		switch {
		case !res.ok || !model.LabelName(name).IsValidLegacy():
			// Quoted UTF-8 label names need Prometheus 3; check those on
			// the returned series so older servers are not sent them.
			if len(vals) == 1 {
				rw.PostFilter[name] = vals[0]
			} else {
				rw.Unnarrowed = append(rw.Unnarrowed, name)
			}
		case len(res.sels) > 0:
			for _, vs := range res.sels {
				addMatcher(vs, matchers[name])
			}
			if len(vals) == 1 {
				rw.Injected[name] = vals[0]
			} else {
				rw.InjectedAny[name] = vals
			}
		}
		// ok with no selectors: the label cannot be on the result at all
		// (aggregated away), so there is nothing to filter on.
	}
	for _, ref := range st.refs {
		for _, name := range names {
			if name == labels.MetricName || name == "" || !isMatchingLabel(ref.vm, name) {
				continue
			}
			if res := narrow(ref.expr, name); res.ok {
				for _, vs := range res.sels {
					addMatcher(vs, matchers[name])
				}
			}
		}
		rq := unwrapParens(ref.expr).String()
		if _, perr := ParseExpr(rq); perr == nil {
			rw.References = append(rw.References, Reference{Op: ref.op, Query: rq})
		}
	}
	q := e.String()
	// Round-trip: the printed query must parse (RewriteExpr retries
	// without injection when it does not).
	if _, perr := ParseExpr(q); perr != nil {
		return nil, fmt.Errorf("%w: %v", errUnparseable, perr)
	}
	rw.Query = q
	if len(rw.Injected) == 0 {
		rw.Injected = nil
	}
	if len(rw.PostFilter) == 0 {
		rw.PostFilter = nil
	}
	if len(rw.InjectedAny) == 0 {
		rw.InjectedAny = nil
	}
	return rw, nil
}

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

func unwrapParens(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// stripper removes the alerting comparisons along the "top chain" of an
// expression: the root, through parentheses, and the operands of and/or/
// unless. Comparisons deeper inside (count(up == 0), max_over_time((x > 1)[5m:]))
// are part of what is measured and stay.
type stripper struct {
	rw   *Rewrite
	refs []refCandidate
}

// refCandidate is the series side of a vector-vs-vector comparison.
type refCandidate struct {
	op   string
	expr parser.Expr
	vm   *parser.VectorMatching
}

func (s *stripper) strip(e parser.Expr) parser.Expr {
	switch n := e.(type) {
	case *parser.ParenExpr:
		inner := s.strip(n.Expr)
		if _, isParen := inner.(*parser.ParenExpr); isParen {
			return inner
		}
		return &parser.ParenExpr{Expr: inner, PosRange: n.PosRange}
	case *parser.Call:
		if inner := absentInner(n); inner != nil {
			// absent(up{job="x"} == 1) watches up{job="x"}: chart that.
			inner = unwrapParens(s.strip(inner))
			s.rw.AbsentOf = append(s.rw.AbsentOf, inner.String())
			return inner
		}
		return n
	case *parser.BinaryExpr:
		switch {
		case n.Op.IsComparisonOperator():
			return s.stripComparison(n)
		case n.Op == parser.LAND || n.Op == parser.LUNLESS:
			lhs := s.strip(n.LHS)
			s.rw.Conditions = append(s.rw.Conditions, n.Op.String()+matchingString(n.VectorMatching)+" "+n.RHS.String())
			return lhs
		case n.Op == parser.LOR:
			lhs := s.strip(n.LHS)
			rhs := s.strip(n.RHS)
			// "x > 1 or absent(x)" charts x once, not twice.
			if unwrapParens(lhs).String() == unwrapParens(rhs).String() {
				return lhs
			}
			return &parser.BinaryExpr{Op: n.Op, LHS: lhs, RHS: rhs, VectorMatching: n.VectorMatching}
		}
	}
	return e
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

func (s *stripper) stripComparison(n *parser.BinaryExpr) parser.Expr {
	lScalar := n.LHS.Type() == parser.ValueTypeScalar
	rScalar := n.RHS.Type() == parser.ValueTypeScalar
	switch {
	case lScalar && rScalar:
		return n
	case rScalar:
		s.addThreshold(n, n.RHS, n.LHS, false)
		return s.strip(n.LHS)
	case lScalar:
		s.addThreshold(n, n.LHS, n.RHS, true)
		return s.strip(n.RHS)
	default:
		// Vector against vector (x > y * 0.9, a != b): chart the left side,
		// note the right side as a condition.
		op := n.Op.String()
		if n.ReturnBool {
			op += " bool"
		}
		s.rw.Conditions = append(s.rw.Conditions, op+matchingString(n.VectorMatching)+" "+n.RHS.String())
		if !n.ReturnBool && n.RHS.Type() == parser.ValueTypeVector {
			s.refs = append(s.refs, refCandidate{op: n.Op.String(), expr: n.RHS, vm: n.VectorMatching})
		}
		return s.strip(n.LHS)
	}
}

// addThreshold records "metric op value". flipped is set when the scalar was
// on the left ("80 < x"), so the operator is mirrored.
func (s *stripper) addThreshold(n *parser.BinaryExpr, scalar, vector parser.Expr, flipped bool) {
	op := n.Op
	if flipped {
		op = mirror(op)
	}
	if isZeroOne(vector) {
		// "(x > bool 4) == 1" and "absent(x) == 1" compare a 0/1 result;
		// the line would mean nothing on the chart of x.
		s.rw.Conditions = append(s.rw.Conditions, op.String()+" "+scalar.String()+" (on a 0/1 result)")
		return
	}
	v, err := evalScalar(scalar)
	if err != nil {
		s.rw.Conditions = append(s.rw.Conditions, op.String()+" "+scalar.String())
		return
	}
	s.rw.Thresholds = append(s.rw.Thresholds, series.Threshold{Op: op.String(), Value: v})
}

// isZeroOne reports whether e yields only 0/1 values: a bool comparison or absent().
func isZeroOne(e parser.Expr) bool {
	switch n := unwrapParens(e).(type) {
	case *parser.BinaryExpr:
		return n.Op.IsComparisonOperator() && n.ReturnBool
	case *parser.Call:
		return absentInner(n) != nil
	}
	return false
}

func mirror(op parser.ItemType) parser.ItemType {
	switch op {
	case parser.GTR:
		return parser.LSS
	case parser.LSS:
		return parser.GTR
	case parser.GTE:
		return parser.LTE
	case parser.LTE:
		return parser.GTE
	}
	return op // == and != are symmetric
}

var errNotConstant = errors.New("not a constant")

// evalScalar folds constant scalar expressions such as (14.4 * (1 - 0.999)).
func evalScalar(e parser.Expr) (float64, error) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, nil
	case *parser.ParenExpr:
		return evalScalar(n.Expr)
	case *parser.StepInvariantExpr:
		return evalScalar(n.Expr)
	case *parser.UnaryExpr:
		v, err := evalScalar(n.Expr)
		if err != nil {
			return 0, err
		}
		if n.Op == parser.SUB {
			return -v, nil
		}
		return v, nil
	case *parser.DurationExpr:
		if n.Op == parser.SUB && n.LHS == nil {
			v, err := evalScalar(n.RHS)
			return -v, err
		}
		if n.LHS == nil || n.RHS == nil {
			return 0, errNotConstant
		}
		return evalBinary(n.Op, n.LHS, n.RHS)
	case *parser.BinaryExpr:
		if n.Op.IsComparisonOperator() && !n.ReturnBool {
			return 0, errNotConstant
		}
		return evalBinary(n.Op, n.LHS, n.RHS)
	case *parser.Call:
		if n.Func != nil && n.Func.Name == "pi" {
			return math.Pi, nil
		}
	}
	return 0, errNotConstant
}

func evalBinary(op parser.ItemType, l, r parser.Expr) (float64, error) {
	a, err := evalScalar(l)
	if err != nil {
		return 0, err
	}
	b, err := evalScalar(r)
	if err != nil {
		return 0, err
	}
	switch op {
	case parser.ADD:
		return a + b, nil
	case parser.SUB:
		return a - b, nil
	case parser.MUL:
		return a * b, nil
	case parser.DIV:
		return a / b, nil
	case parser.MOD:
		return math.Mod(a, b), nil
	case parser.POW:
		return math.Pow(a, b), nil
	case parser.ATAN2:
		return math.Atan2(a, b), nil
	case parser.EQLC:
		return boolf(a == b), nil
	case parser.NEQ:
		return boolf(a != b), nil
	case parser.GTR:
		return boolf(a > b), nil
	case parser.LSS:
		return boolf(a < b), nil
	case parser.GTE:
		return boolf(a >= b), nil
	case parser.LTE:
		return boolf(a <= b), nil
	}
	return 0, errNotConstant
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
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

// FormatThreshold renders a threshold value compactly ("80", "0.0144").
func FormatThreshold(t series.Threshold) string {
	return t.Op + " " + strconv.FormatFloat(t.Value, 'g', 6, 64)
}
