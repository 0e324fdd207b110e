package chartplan

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
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
	// Parts are set when the expression is charted as several queries: the
	// operands of `or` and the windows of a multi-window tier, each with its
	// own thresholds. Query is then their union (for Explore and Grafana),
	// and Fetch runs each part on its own so `or` merges none of them.
	Parts []Part `json:"parts,omitempty"`
	// KeptFilters explain comparisons left in the query because the
	// aggregation around them is not monotone (sum(x > 5) sums the series
	// above 5): the chart shows the filtered aggregate and draws no line.
	KeptFilters []string `json:"keptFilters,omitempty"`
	// Dropped are operands of `or` that cannot carry the alert's labels
	// (or vector(0), a fallback aggregated over the alert's labels): a
	// labelled alert's series is never among them, so they are not charted.
	Dropped []string `json:"dropped,omitempty"`
}

// Part is one separately fetched query of a chart.
type Part struct {
	// Name tells the part apart in legends and threshold labels ("5m").
	Name       string             `json:"name"`
	Query      string             `json:"query"`
	Thresholds []series.Threshold `json:"thresholds,omitempty"`
	// Free are the alert's labels this part's series need not match: the
	// window's own labels (sloth_window) that its `and` ignores.
	Free []string `json:"free,omitempty"`
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
			if k != model.MetricNameLabel && k != "" {
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
			if k != model.MetricNameLabel && k != "" {
				rw.Unnarrowed = append(rw.Unnarrowed, k)
			}
		}
		sort.Strings(rw.Unnarrowed)
	}
	return rw, err
}

var errUnparseable = errors.New("rewritten query does not parse")

// MaxParts caps the parts a chart is fetched in: a rule that ors more
// expressions than that is charted as one union query, as written.
const MaxParts = 12

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
	st := &stripper{}
	ps := dedupParts(st.parts(e))
	for i := range ps {
		ps[i].expr = unwrapParens(ps[i].expr)
		if t := ps[i].expr.Type(); t != parser.ValueTypeVector {
			return nil, fmt.Errorf("the expression is a %s, not an instant vector", t)
		}
	}
	rw.Conditions, rw.AbsentOf, rw.KeptFilters = st.conditions, st.absentOf, st.keptFilters
	rw.Injected = map[string]string{}
	rw.InjectedAny = map[string][]string{}
	rw.PostFilter = map[string]string{}
	names := make([]string, 0, len(ids))
	matchers := map[string]*labels.Matcher{}
	dedup := make(map[string][]string, len(ids))
	for k, vals := range ids {
		if k == model.MetricNameLabel || k == "" || len(vals) == 0 {
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

	// Which part can carry which label: a part that cannot carry a label
	// the alert has (vector(0), a sum aggregated over it) cannot hold the
	// alert's series when another part can.
	res := make([]narrowing, len(ps)*len(names)) // res[i*len(names)+j]: part i, label j
	at := func(i, j int) narrowing { return res[i*len(names)+j] }
	for i, p := range ps {
		for j, name := range names {
			res[i*len(names)+j] = narrow(p.expr, name)
		}
	}
	if len(ps) > 1 {
		lacks := make([]int, len(ps))
		for i, p := range ps {
			for j, name := range names {
				if r := at(i, j); r.ok && len(r.sels) == 0 && !p.free(name) {
					lacks[i]++
				}
			}
		}
		if slices.Contains(lacks, 0) && slices.ContainsFunc(lacks, func(n int) bool { return n > 0 }) {
			var kept []part
			var keptRes []narrowing
			for i, p := range ps {
				if lacks[i] == 0 {
					kept, keptRes = append(kept, p), append(keptRes, res[i*len(names):(i+1)*len(names)]...)
				} else {
					rw.Dropped = append(rw.Dropped, p.expr.String())
				}
			}
			ps, res = kept, keptRes
			ps[0].vm = nil
		}
	}

	for j, name := range names {
		vals := dedup[name]
		// Quoted UTF-8 label names need Prometheus 3; check those on the
		// returned series so older servers are not sent them.
		legacy := model.LegacyValidation.IsValidLabelName(name)
		injected, unsafe := false, !legacy
		for i, p := range ps {
			if !at(i, j).ok && !p.free(name) {
				unsafe = true
			}
		}
		for i, p := range ps {
			if r := at(i, j); r.ok && legacy && !p.free(name) {
				for _, vs := range r.sels {
					addMatcher(vs, matchers[name])
					injected = true
				}
			}
		}
		switch {
		case unsafe && len(vals) == 1:
			rw.PostFilter[name] = vals[0]
		case unsafe:
			rw.Unnarrowed = append(rw.Unnarrowed, name)
		}
		if injected {
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
			if ref.scalar || !isMatchingLabel(ref.vm, name) {
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

	// The chart query is the union of the parts; several parts are also
	// listed with their own thresholds, to be fetched one by one.
	q := ps[0].expr
	for _, p := range ps[1:] {
		vm := p.vm
		if vm == nil {
			vm = &parser.VectorMatching{Card: parser.CardManyToMany}
		}
		q = &parser.BinaryExpr{Op: parser.LOR, LHS: q, RHS: p.expr, VectorMatching: vm}
	}
	if len(ps) == 1 && len(st.thresholds) == len(ps[0].th) && !hasDuplicates(st.thresholds) {
		rw.Thresholds = st.thresholds // one part with every threshold, each once
	} else {
		rw.Thresholds = partThresholds(st.thresholds, ps)
	}
	if len(ps) > 1 && len(ps) <= MaxParts {
		partNames := nameParts(ps)
		for i, p := range ps {
			pt := Part{Name: partNames[i], Query: p.expr.String(), Thresholds: dedupThresholds(p.th)}
			for _, name := range names {
				if p.free(name) {
					pt.Free = append(pt.Free, name)
				}
			}
			rw.Parts = append(rw.Parts, pt)
		}
		if !sameThresholds(ps) {
			for i := range rw.Thresholds {
				var on []string
				for k, p := range ps {
					if slices.ContainsFunc(p.th, func(t series.Threshold) bool { return t.Op == rw.Thresholds[i].Op && t.Value == rw.Thresholds[i].Value }) {
						on = append(on, partNames[k])
					}
				}
				rw.Thresholds[i].Series = strings.Join(on, ", ")
			}
			for i := range rw.Parts {
				for k := range rw.Parts[i].Thresholds {
					rw.Parts[i].Thresholds[k].Series = rw.Parts[i].Name
				}
			}
		}
	}
	qs := q.String()
	// Round-trip: the printed query must parse (RewriteExpr retries without
	// injection when it does not). The parts are printed inside it as they
	// are on their own, operands of the lowest-precedence operator, so
	// they parse when it does.
	if _, perr := ParseExpr(qs); perr != nil {
		return nil, fmt.Errorf("%w: %v", errUnparseable, perr)
	}
	rw.Query = qs
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

// dedupParts merges parts that chart the same expression ("x > 1 or
// absent(x)", the two sides of a clock-skew rule), keeping every threshold.
func dedupParts(ps []part) []part {
	if len(ps) < 2 {
		return ps
	}
	out := ps[:0]
	seen := map[string]int{}
	for _, p := range ps {
		k := unwrapParens(p.expr).String()
		if i, ok := seen[k]; ok {
			out[i].th = append(out[i].th, p.th...)
			continue
		}
		seen[k] = len(out)
		out = append(out, p)
	}
	return out
}

func dedupThresholds(th []series.Threshold) []series.Threshold {
	var out []series.Threshold
	for _, t := range th {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func hasDuplicates(th []series.Threshold) bool {
	for i, t := range th {
		if slices.Contains(th[:i], t) {
			return true
		}
	}
	return false
}

// partThresholds are the stripped thresholds, in the order they were met,
// that belong to one of the charted parts, each once.
func partThresholds(all []series.Threshold, ps []part) []series.Threshold {
	in := map[series.Threshold]bool{}
	for _, p := range ps {
		for _, t := range p.th {
			in[t] = true
		}
	}
	var out []series.Threshold
	for _, t := range all {
		if in[t] {
			out = append(out, t)
			delete(in, t) // each once
		}
	}
	return out
}

func sameThresholds(ps []part) bool {
	for _, p := range ps[1:] {
		if thresholdKey(p.th) != thresholdKey(ps[0].th) {
			return false
		}
	}
	return true
}

// nameParts gives each part a short name for legends and threshold labels:
// what tells the parts apart — their metric names less what the names
// share ("slo:sli_error:ratio_rate5m", "…1h" → "5m", "1h"), else their
// range durations ("[5m]", "[1h]" → "5m", "1h"), else the part's query.
func nameParts(ps []part) []string {
	metrics := make([]string, len(ps))
	ranges := make([]string, len(ps))
	for i, p := range ps {
		var ms, rs []string
		parser.Inspect(p.expr, func(n parser.Node, _ []parser.Node) error {
			switch x := n.(type) {
			case *parser.VectorSelector:
				if x.Name != "" && !slices.Contains(ms, x.Name) {
					ms = append(ms, x.Name)
				}
			case *parser.MatrixSelector:
				if r := model.Duration(x.Range).String(); !slices.Contains(rs, r) {
					rs = append(rs, r)
				}
			case *parser.SubqueryExpr:
				if r := model.Duration(x.Range).String(); !slices.Contains(rs, r) {
					rs = append(rs, r)
				}
			}
			return nil
		})
		metrics[i], ranges[i] = strings.Join(ms, " "), strings.Join(rs, " ")
	}
	if distinct(metrics) {
		return trimCommon(metrics)
	}
	if distinct(ranges) {
		return ranges
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.expr.String()
	}
	return out
}

func distinct(ss []string) bool {
	seen := map[string]bool{}
	for _, s := range ss {
		if s == "" || seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

// trimCommon shortens names that differ only in a window
// ("slo:sli_error:ratio_rate5m", "…ratio_rate1h" → "5m", "1h"); other
// names are kept whole.
func trimCommon(names []string) []string {
	n := len(names[0])
	for _, s := range names[1:] {
		i := 0
		for i < n && i < len(s) && s[i] == names[0][i] {
			i++
		}
		n = i
	}
	for n > 0 && names[0][n-1] >= '0' && names[0][n-1] <= '9' {
		n-- // never split a number: rate1h, rate15m
	}
	out := make([]string, len(names))
	for i, s := range names {
		if !windowName.MatchString(s[n:]) {
			return names
		}
		out[i] = s[n:]
	}
	return out
}

var windowName = regexp.MustCompile(`^[0-9]+(ms|[smhdwy])$`)

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

// part is one separately charted piece of the alerting expression.
type part struct {
	expr parser.Expr
	th   []series.Threshold     // the comparisons stripped from this part, outermost first
	vm   *parser.VectorMatching // matching of the `or` joining it to the parts before it
	// joins are the matchings of the `and`s that made it another window of
	// the parts before it: labels they do not match on (ignoring
	// (sloth_window)) are the window's own and never narrowed.
	joins []*parser.VectorMatching
}

// free reports whether name is a label of the part's own window, not one
// it shares with the alert's series.
func (p part) free(name string) bool {
	for _, vm := range p.joins {
		if !isMatchingLabel(vm, name) {
			return true
		}
	}
	return false
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

func thresholdKey(th []series.Threshold) string {
	keys := make([]string, len(th))
	for i, t := range th {
		keys[i] = FormatThreshold(t)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
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

// threshold records "metric op value" and returns it; flipped is set when
// the scalar was on the left ("80 < x"), so the operator is mirrored. A
// non-constant scalar becomes a condition and a scalar reference, a
// comparison of a 0/1 result a condition; both return false.
func (s *stripper) threshold(n *parser.BinaryExpr, scalar, vector parser.Expr, flipped bool) (series.Threshold, bool) {
	op := n.Op
	if flipped {
		op = mirror(op)
	}
	if isZeroOne(vector) {
		// "(x > bool 4) == 1" and "absent(x) == 1" compare a 0/1 result;
		// the line would mean nothing on the chart of x.
		s.conditions = append(s.conditions, op.String()+" "+scalar.String()+" (on a 0/1 result)")
		return series.Threshold{}, false
	}
	v, err := evalScalar(scalar)
	if err != nil {
		s.conditions = append(s.conditions, op.String()+" "+scalar.String())
		s.refs = append(s.refs, refCandidate{op: op.String(), scalar: true,
			expr: &parser.Call{Func: parser.Functions["vector"], Args: parser.Expressions{unwrapParens(scalar)}}})
		return series.Threshold{}, false
	}
	t := series.Threshold{Op: op.String(), Value: v}
	s.thresholds = append(s.thresholds, t)
	return t, true
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
