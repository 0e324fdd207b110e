package fakegrafana

import "time"

// Builders for rule data entries shaped exactly as Grafana's rule editor
// saves them (Grafana 11–13: reduce and threshold models keep a vestigial
// classic "conditions" array, every model carries intervalMs 1000 and
// maxDataPoints 43200, expressions name the __expr__ data source).

// PromQuery is a Prometheus data query of a rule: instant, as the editor's
// default for alerting, over the last from.
func PromQuery(refID, dsUID, expr string, from time.Duration) AlertQuery {
	return AlertQuery{RefID: refID, DatasourceUID: dsUID, From: from, Model: map[string]any{
		"datasource": map[string]any{"type": TypePrometheus, "uid": dsUID}, "editorMode": "code", "expr": expr,
		"instant": true, "range": false, "intervalMs": float64(1000), "legendFormat": "__auto",
		"maxDataPoints": float64(43200), "refId": refID}}
}

// SQLQuery is a PostgreSQL data query of a rule in table format.
func SQLQuery(refID, dsUID, sql string, from time.Duration) AlertQuery {
	return AlertQuery{RefID: refID, DatasourceUID: dsUID, From: from, Model: map[string]any{
		"datasource": map[string]any{"type": TypePostgres, "uid": dsUID}, "editorMode": "code", "format": "table",
		"rawQuery": true, "rawSql": sql, "intervalMs": float64(1000), "maxDataPoints": float64(43200), "refId": refID}}
}

func exprModel(refID, typ string, extra map[string]any) AlertQuery {
	m := map[string]any{"datasource": map[string]any{"type": "__expr__", "uid": "__expr__"}, "type": typ,
		"refId": refID, "intervalMs": float64(1000), "maxDataPoints": float64(43200), "hide": false}
	for k, v := range extra {
		m[k] = v
	}
	return AlertQuery{RefID: refID, DatasourceUID: "__expr__", Model: m}
}

func vestigial(refID string, typ string, params []float64) []any {
	p := make([]any, len(params))
	for i, v := range params {
		p[i] = v
	}
	return []any{map[string]any{"evaluator": map[string]any{"params": p, "type": typ}, "operator": map[string]any{"type": "and"},
		"query": map[string]any{"params": []any{refID}}, "reducer": map[string]any{"params": []any{}, "type": "last"}, "type": "query"}}
}

// Reduce reduces of with reducer ("last", "mean", "max"…).
func Reduce(refID, of, reducer string) AlertQuery {
	return exprModel(refID, "reduce", map[string]any{"expression": of, "reducer": reducer,
		"settings": map[string]any{"mode": ""}, "conditions": vestigial(refID, "gt", nil)})
}

// Threshold compares of with typ ("gt", "lt", "within_range"…) and params.
func Threshold(refID, of, typ string, params ...float64) AlertQuery {
	return exprModel(refID, "threshold", map[string]any{"expression": of, "conditions": vestigial(refID, typ, params)})
}

// Math is a math expression such as "$B > 80".
func Math(refID, expr string) AlertQuery {
	return exprModel(refID, "math", map[string]any{"expression": expr})
}

// ClassicCondition is one condition of a classic_conditions expression.
type ClassicCondition struct {
	Query, Reducer, Evaluator, Operator string
	Params                              []float64
}

// Classic is a classic_conditions expression.
func Classic(refID string, conds ...ClassicCondition) AlertQuery {
	var cs []any
	for _, c := range conds {
		p := make([]any, len(c.Params))
		for i, v := range c.Params {
			p[i] = v
		}
		op := c.Operator
		if op == "" {
			op = "and"
		}
		cs = append(cs, map[string]any{"evaluator": map[string]any{"params": p, "type": c.Evaluator},
			"operator": map[string]any{"type": op}, "query": map[string]any{"params": []any{c.Query}},
			"reducer": map[string]any{"params": []any{}, "type": c.Reducer}, "type": "query"})
	}
	return exprModel(refID, "classic_conditions", map[string]any{"conditions": cs})
}
