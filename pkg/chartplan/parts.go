package chartplan

import (
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alertchart/alertchart/pkg/series"
)

// The parts a chart is fetched in: one per operand of `or` and per window
// of a multi-window tier, so that `or` merges none of their series; each
// gets its share of the thresholds and a short name telling it apart.

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
