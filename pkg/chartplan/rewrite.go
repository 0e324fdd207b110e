package chartplan

import (
	"errors"
	"fmt"
	"slices"
	"sort"
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

func unwrapParens(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}
