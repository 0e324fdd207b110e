package chartplan

import (
	"encoding/json"
	"maps"
	"strings"

	"github.com/alertchart/alertchart/pkg/grafana"
)

// The query models of a Grafana-managed rule, made into the chart's: PromQL
// narrowed to the alert's series on its syntax tree, other queries set to
// return data over time, and the panel targets the Grafana renderer sends.

// promTypes are data source types that speak PromQL.
var promTypes = map[string]bool{"prometheus": true, "grafana-amazonprometheus-datasource": true,
	"grafana-azureprometheus-datasource": true}

// grafanaPromQuery narrows a Prometheus-type query of the rule to the
// alert's series on its syntax tree, like a Prometheus rule's expression.
func (p *Planner) grafanaPromQuery(pl *Plan, gq *GrafanaQuery, ids map[string]string) {
	gq.Model["range"], gq.Model["instant"] = true, false
	delete(gq.Model, "exemplar")
	if gq.Expr == "" {
		return
	}
	rw, err := RewriteExpr(gq.Expr, ids)
	if err != nil {
		pl.fallback("query %s cannot be rewritten (%v); its series are filtered by the alert's labels instead", gq.RefID, err)
		return
	}
	gq.Query, gq.Injected, gq.PostFilter = rw.Query, rw.Injected, rw.PostFilter
	gq.Model["expr"] = rw.Query
	if len(rw.Injected) > 0 {
		if pl.InjectedLabels == nil {
			pl.InjectedLabels = map[string]string{}
		}
		maps.Copy(pl.InjectedLabels, rw.Injected)
	}
	// A comparison written in the query itself (x > 80) is stripped and
	// drawn like a Prometheus rule's.
	pl.Thresholds = append(pl.Thresholds, rw.Thresholds...)
	pl.Conditions = append(pl.Conditions, rw.Conditions...)
	for _, k := range rw.KeptFilters {
		pl.fallback("query %s keeps a comparison inside an aggregation: %s", gq.RefID, k)
	}
	if len(rw.Parts) > 1 || len(rw.References) > 0 {
		pl.fallback("query %s alerts on several expressions or against other series; it is charted as one query", gq.RefID)
	}
}

// isRangeQuery reports whether a Prometheus-type alert query evaluates its
// relative time range (range: true) rather than one instant.
func isRangeQuery(q *grafana.AlertQuery) bool {
	r, _ := q.Model["range"].(bool)
	return r
}

// rangeModel makes a non-PromQL query model return data over time where
// it has a switch for it (Loki's queryType "instant" → "range"); SQL and
// most others already do.
func rangeModel(m map[string]any, dsType string) {
	if qt, _ := m["queryType"].(string); qt == "instant" && dsType == "loki" {
		m["queryType"] = "range"
	}
	if inst, ok := m["instant"].(bool); ok && inst {
		m["instant"], m["range"] = false, true
	}
}

// queryText is the query a model carries, for display.
func queryText(m map[string]any) string {
	for _, k := range []string{"expr", "rawSql", "query", "rawQuery", "sql"} {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func cloneModel(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil || out == nil {
		return map[string]any{}
	}
	return out
}

// grafanaChartQuery applies a chart_query annotation to a Grafana-managed
// rule: the PromQL replaces the first Prometheus-type query's, as written.
func (p *Planner) grafanaChartQuery(pl *Plan, q string) {
	if _, err := ParseExpr(q); err != nil {
		pl.fallback("%s annotation does not parse (%v); ignored", AnnotationQuery, err)
		return
	}
	for i := range pl.Grafana.Queries {
		gq := &pl.Grafana.Queries[i]
		if !promTypes[gq.DatasourceType] {
			continue
		}
		gq.Query, gq.Injected, gq.PostFilter = q, nil, nil
		gq.Model["expr"] = q
		pl.Grafana.Queries = pl.Grafana.Queries[i : i+1]
		pl.Grafana.Match = nil
		pl.Query, pl.InjectedLabels = q, nil
		pl.Overrides = append(pl.Overrides, AnnotationQuery)
		return
	}
	pl.fallback("%s annotation is PromQL and the rule has no Prometheus query to run it on; ignored", AnnotationQuery)
}

// GrafanaTarget is a charted query as a panel target: its model with its
// refId and data source, for the Grafana renderer.
func GrafanaTarget(q GrafanaQuery) map[string]any {
	m := cloneModel(q.Model)
	m["refId"] = q.RefID
	ds := map[string]any{"uid": q.DatasourceUID}
	if q.DatasourceType != "" {
		ds["type"] = q.DatasourceType
	}
	m["datasource"] = ds
	delete(m, "intervalMs")
	delete(m, "maxDataPoints")
	return m
}
