package chartplan

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/series"
)

// The expression chain of a Grafana-managed rule (reduce, math, threshold,
// classic conditions), walked from its condition down to its data queries:
// it tells which queries to chart and which thresholds to draw on them.

// ruleThreshold is a threshold of the chain with the refIds it compares.
type ruleThreshold struct {
	series.Threshold
	refs []string
}

// ruleAnalysis is what the expression chain says about a rule's chart.
type ruleAnalysis struct {
	chain      []string
	queries    []string // data query refIds to chart, in order of discovery
	thresholds []ruleThreshold
	// thresholdsOf marks queries compared directly by a threshold.
	thresholdsOf map[string]bool
	conditions   []string
	notes        []string
	// dimensionless: classic conditions decide the rule; its alert has no
	// series labels.
	dimensionless bool
}

// analyseRule walks the expression chain from the rule's condition down to
// its data queries (Grafana's expression types, grafana/grafana pkg/expr:
// reduce, resample, math, threshold with gt/lt/eq/ne/gte/lte/within_range/
// outside_range and _included, classic_conditions with gt/lt/eq/ne/ge/le,
// ranges and no_value in grafana/grafana pkg/expr/classic/evaluator.go).
func analyseRule(r *grafana.AlertRule) *ruleAnalysis {
	a := &ruleAnalysis{thresholdsOf: map[string]bool{}}
	seen := map[string]bool{}
	cond := r.Condition
	if cond == "" && len(r.Data) > 0 {
		cond = r.Data[len(r.Data)-1].RefID
		a.notes = append(a.notes, "the rule names no condition; using its last entry "+cond)
	}
	var visit func(ref string, direct bool)
	visit = func(ref string, direct bool) {
		if seen[ref] {
			return
		}
		seen[ref] = true
		q := r.Query(ref)
		if q == nil {
			a.notes = append(a.notes, "the rule refers to "+ref+", which it does not define")
			return
		}
		if !q.IsExpression() {
			a.chain = append(a.chain, fmt.Sprintf("%s: %s query on %s", ref, or(q.DatasourceType(), "data source"), q.DatasourceUID))
			if !slices.Contains(a.queries, ref) {
				a.queries = append(a.queries, ref)
			}
			return
		}
		m := q.Model
		of, _ := m["expression"].(string)
		of = strings.TrimPrefix(strings.TrimSpace(of), "$")
		switch t := q.ExpressionType(); t {
		case "reduce":
			reducer, _ := m["reducer"].(string)
			mode := ""
			if st, ok := m["settings"].(map[string]any); ok {
				if md, _ := st["mode"].(string); md != "" {
					mode = ", " + md
				}
			}
			a.chain = append(a.chain, fmt.Sprintf("%s: reduce %s(%s%s)", ref, or(reducer, "last"), of, mode))
			visit(of, direct)
		case "resample":
			window, _ := m["window"].(string)
			down, _ := m["downsampler"].(string)
			a.chain = append(a.chain, fmt.Sprintf("%s: resample %s to %s (%s)", ref, of, window, or(down, "mean")))
			visit(of, direct)
		case "threshold":
			th, desc, ok := thresholdOf(m)
			a.chain = append(a.chain, fmt.Sprintf("%s: threshold %s %s", ref, of, desc))
			if ok && direct {
				a.addThreshold(th, a.dataRefs(r, of))
			}
			if cs, _ := m["conditions"].([]any); len(cs) > 0 {
				if c0, _ := cs[0].(map[string]any); c0 != nil {
					if ue, ok := c0["unloadEvaluator"].(map[string]any); ok {
						if uth, ok := evaluatorThreshold(ue, false); ok {
							a.conditions = append(a.conditions, "recovers when "+of+" "+uth.Condition(formatNum))
						}
					}
				}
			}
			visit(of, direct)
		case "math":
			expr, _ := m["expression"].(string)
			a.chain = append(a.chain, fmt.Sprintf("%s: math %s", ref, expr))
			refs, comps, plain := parseMath(expr)
			if !plain {
				a.conditions = append(a.conditions, ref+": "+expr)
				a.notes = append(a.notes, fmt.Sprintf("%s computes a value from its inputs (%s); the chart shows the inputs without threshold lines", ref, expr))
			}
			for _, c := range comps {
				if direct && plain {
					a.addThreshold(c.th, a.dataRefs(r, c.ref))
				}
			}
			for _, x := range refs {
				visit(x, direct && plain)
			}
		case "classic_conditions":
			a.dimensionless = true
			cs, _ := m["conditions"].([]any)
			var parts, inputs []string
			for i, c := range cs {
				cm, _ := c.(map[string]any)
				qm, _ := cm["query"].(map[string]any)
				params, _ := qm["params"].([]any)
				if len(params) == 0 {
					continue
				}
				x, _ := params[0].(string)
				red, _ := cm["reducer"].(map[string]any)
				rt, _ := red["type"].(string)
				ev, _ := cm["evaluator"].(map[string]any)
				th, ok := evaluatorThreshold(ev, true)
				desc := "has no value"
				if ok {
					desc = th.Condition(formatNum)
				}
				op := ""
				if i > 0 {
					o, _ := cm["operator"].(map[string]any)
					ot, _ := o["type"].(string)
					op = strings.ToUpper(or(ot, "and")) + " "
				}
				parts = append(parts, fmt.Sprintf("%s%s(%s) %s", op, or(rt, "avg"), x, desc))
				if ok && direct {
					a.addThreshold(th, a.dataRefs(r, x))
				}
				inputs = append(inputs, x)
			}
			a.chain = append(a.chain, fmt.Sprintf("%s: classic condition %s", ref, strings.Join(parts, " ")))
			for _, x := range inputs {
				visit(x, direct)
			}
			a.notes = append(a.notes, "classic conditions fire on any series of their queries and give the alert none of its labels: every series is charted")
		default:
			a.chain = append(a.chain, fmt.Sprintf("%s: %s expression", ref, or(t, "unknown")))
			a.notes = append(a.notes, fmt.Sprintf("%s is a %s expression, which AlertChart does not interpret; the rule's data queries are charted without thresholds", ref, or(t, "unknown")))
			for _, d := range r.Data {
				if !d.IsExpression() {
					visit(d.RefID, false)
				}
			}
		}
	}
	visit(cond, true)
	return a
}

// dataRefs returns the data queries ref reads, through reduce/resample/math.
func (a *ruleAnalysis) dataRefs(r *grafana.AlertRule, ref string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(x string) {
		if seen[x] {
			return
		}
		seen[x] = true
		q := r.Query(x)
		if q == nil {
			return
		}
		if !q.IsExpression() {
			out = append(out, x)
			return
		}
		switch q.ExpressionType() {
		case "reduce", "resample", "threshold":
			of, _ := q.Model["expression"].(string)
			walk(strings.TrimPrefix(strings.TrimSpace(of), "$"))
		case "math":
			expr, _ := q.Model["expression"].(string)
			refs, _, _ := parseMath(expr)
			for _, y := range refs {
				walk(y)
			}
		}
	}
	walk(ref)
	return out
}

func (a *ruleAnalysis) addThreshold(th series.Threshold, refs []string) {
	for _, ref := range refs {
		a.thresholdsOf[ref] = true
	}
	for i := range a.thresholds {
		if a.thresholds[i].Op == th.Op && a.thresholds[i].Value == th.Value && eqPtr(a.thresholds[i].Upper, th.Upper) {
			for _, ref := range refs {
				if !slices.Contains(a.thresholds[i].refs, ref) {
					a.thresholds[i].refs = append(a.thresholds[i].refs, ref)
				}
			}
			return
		}
	}
	a.thresholds = append(a.thresholds, ruleThreshold{Threshold: th, refs: refs})
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// thresholdOf reads a threshold expression's evaluator
// (conditions[0].evaluator, grafana/grafana pkg/expr/threshold.go
// ThresholdCommandConfig).
func thresholdOf(m map[string]any) (series.Threshold, string, bool) {
	cs, _ := m["conditions"].([]any)
	if len(cs) == 0 {
		return series.Threshold{}, "(no condition)", false
	}
	c0, _ := cs[0].(map[string]any)
	ev, _ := c0["evaluator"].(map[string]any)
	th, ok := evaluatorThreshold(ev, false)
	if !ok {
		t, _ := ev["type"].(string)
		return th, "(" + t + ")", false
	}
	return th, th.Condition(formatNum), true
}

// evaluatorThreshold turns an evaluator {type, params} into a threshold.
// Threshold expressions say gte/lte, classic conditions ge/le.
func evaluatorThreshold(ev map[string]any, classic bool) (series.Threshold, bool) {
	t, _ := ev["type"].(string)
	ps, _ := ev["params"].([]any)
	var params []float64
	for _, p := range ps {
		switch v := p.(type) {
		case float64:
			params = append(params, v)
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				params = append(params, f)
			}
		}
	}
	ops := map[string]string{"gt": ">", "lt": "<", "eq": "==", "ne": "!=", "gte": ">=", "lte": "<=", "ge": ">=", "le": "<="}
	if op, ok := ops[t]; ok && len(params) >= 1 {
		if classic && (t == "gte" || t == "lte") || !classic && (t == "ge" || t == "le") {
			return series.Threshold{}, false
		}
		return series.Threshold{Op: op, Value: params[0]}, true
	}
	switch t {
	case series.OpWithinRange, series.OpOutsideRange, series.OpWithinRangeIncluded, series.OpOutsideRangeIncluded:
		if len(params) >= 2 {
			lo, hi := min(params[0], params[1]), max(params[0], params[1])
			return series.Threshold{Op: t, Value: lo, Upper: &hi}, true
		}
	}
	return series.Threshold{}, false
}

func formatNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// mathRef finds $A and ${A} in a math expression.
var mathRef = regexp.MustCompile(`\$\{([^}]+)\}|\$([A-Za-z0-9_]+)`)

// mathComparison is "$B > 80" or "80 < $B" (a comparison of one input with
// a constant), the form the rule editor's math conditions take.
var mathComparison = regexp.MustCompile(`^\(?\s*(\$\{[^}]+\}|\$[A-Za-z0-9_]+)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\)?$|^\(?\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*(>=|<=|==|!=|>|<)\s*(\$\{[^}]+\}|\$[A-Za-z0-9_]+)\s*\)?$`)

type mathComp struct {
	ref string
	th  series.Threshold
}

// parseMath returns the inputs of a math expression, its comparisons of an
// input with a constant, and whether it is only such comparisons joined by
// && and || (so the chart of the inputs with those lines is the condition).
func parseMath(expr string) (refs []string, comps []mathComp, plain bool) {
	for _, m := range mathRef.FindAllStringSubmatch(expr, -1) {
		r := m[1] + m[2]
		if !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	plain = true
	for _, part := range regexp.MustCompile(`&&|\|\|`).Split(expr, -1) {
		m := mathComparison.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			plain = false
			continue
		}
		ref, op, num := m[1], m[2], m[3]
		if ref == "" {
			ref, op, num = m[6], flip(m[5]), m[4]
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			plain = false
			continue
		}
		ref = strings.Trim(strings.TrimPrefix(ref, "$"), "{}")
		comps = append(comps, mathComp{ref: ref, th: series.Threshold{Op: op, Value: v}})
	}
	if len(comps) == 0 {
		plain = false
	}
	return refs, comps, plain
}

func flip(op string) string {
	switch op {
	case ">":
		return "<"
	case "<":
		return ">"
	case ">=":
		return "<="
	case "<=":
		return ">="
	}
	return op
}
