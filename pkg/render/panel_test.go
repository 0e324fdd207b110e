package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

// A Grafana 11 time series panel as GET /api/dashboards/uid/:uid returns it.
const timeseriesPanel = `{
  "datasource": {"type": "prometheus", "uid": "PBFA97CFB590B2093"},
  "fieldConfig": {
    "defaults": {
      "color": {"mode": "fixed", "fixedColor": "semi-dark-blue"},
      "custom": {
        "axisBorderShow": false, "axisCenteredZero": false, "axisColorMode": "text", "axisLabel": "",
        "axisPlacement": "auto", "axisSoftMin": 0, "barAlignment": 0, "drawStyle": "line",
        "fillOpacity": 25, "gradientMode": "none",
        "hideFrom": {"legend": false, "tooltip": false, "viz": false},
        "insertNulls": false, "lineInterpolation": "linear", "lineWidth": 2, "pointSize": 5,
        "scaleDistribution": {"type": "linear"}, "showPoints": "auto", "spanNulls": 300000,
        "stacking": {"group": "A", "mode": "none"}, "thresholdsStyle": {"mode": "dashed+area"}
      },
      "decimals": 1,
      "mappings": [],
      "max": 100,
      "min": 0,
      "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": null}, {"color": "red", "value": 80}]},
      "unit": "percent"
    },
    "overrides": []
  },
  "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
  "id": 2,
  "options": {
    "legend": {"calcs": ["mean", "max", "lastNotNull"], "displayMode": "table", "placement": "bottom", "showLegend": true, "sortBy": "Max", "sortDesc": true},
    "tooltip": {"mode": "single", "sort": "none"}
  },
  "targets": [{"datasource": {"type": "prometheus", "uid": "PBFA97CFB590B2093"}, "editorMode": "code", "expr": "100 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100", "legendFormat": "{{instance}}", "range": true, "refId": "A"}],
  "title": "CPU",
  "type": "timeseries"
}`

func TestStyleFromPanel(t *testing.T) {
	t.Parallel()
	var panel map[string]any
	if err := json.Unmarshal([]byte(timeseriesPanel), &panel); err != nil {
		t.Fatal(err)
	}
	st, err := StyleFromPanel(panel)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unit != "percent" || *st.Decimals != 1 || *st.Min != 0 || *st.Max != 100 || *st.SoftMin != 0 {
		t.Errorf("axis fields: %+v", st)
	}
	if st.ColorMode != "fixed" || st.FixedColor != "semi-dark-blue" || st.LineWidth != 2 || st.FillOpacity != 25 {
		t.Errorf("line fields: %+v", st)
	}
	if st.SpanNullsMs != 300000 || st.SpanNulls {
		t.Errorf("spanNulls: %+v", st)
	}
	if st.ThresholdsStyle != "dashed+area" || len(st.Thresholds) != 2 || st.Thresholds[0].Value != nil || *st.Thresholds[1].Value != 80 || st.Thresholds[1].Color != "red" {
		t.Errorf("thresholds: %+v", st.Thresholds)
	}
	if strings.Join(st.LegendCalcs, ",") != "mean,max,lastNotNull" || st.LegendDisplay != "table" || st.LegendSortBy != "Max" || !st.LegendSortDesc {
		t.Errorf("legend: %+v", st)
	}
	if st.LegendFormat != "{{instance}}" || st.LegendPlacement != "bottom" {
		t.Errorf("legend format %q placement %q", st.LegendFormat, st.LegendPlacement)
	}
	// Rendering with it works and uses the fixed colour.
	c := &Chart{Series: []series.Series{{Labels: map[string]string{"instance": "a"}, Points: wave(240, 50, 20, 0)}}, From: t0, To: t0.Add(time.Hour), Style: st}
	r, _ := drawChart(t, c, Options{})
	if want, _ := ParseColor("semi-dark-blue"); r.rows[0].Color != want {
		t.Errorf("series colour %v, want %v", r.rows[0].Color, want)
	}
	if r.rows[0].Name != "a" {
		t.Errorf("template legend format not applied: %q", r.rows[0].Name)
	}

	// A displayName with label variables becomes the legend format.
	dn := map[string]any{"type": "timeseries", "fieldConfig": map[string]any{"defaults": map[string]any{"displayName": "${__field.labels.job}/${__field.labels.instance}"}}}
	if st, err := StyleFromPanel(dn); err != nil || st.LegendFormat != "{{job}}/{{instance}}" {
		t.Errorf("displayName: %q %v", st.LegendFormat, err)
	}

	// Hidden legend, list legend, legacy graph panel.
	hidden := map[string]any{"type": "timeseries", "options": map[string]any{"legend": map[string]any{"showLegend": false, "displayMode": "list", "calcs": []any{}}}}
	if st, err := StyleFromPanel(hidden); err != nil || st.LegendDisplay != "hidden" {
		t.Errorf("hidden legend: %+v %v", st, err)
	}
	graph := map[string]any{"type": "graph", "yaxes": []any{map[string]any{"format": "bytes", "min": "0", "max": nil}},
		"linewidth": 2.0, "fill": 1.0, "legend": map[string]any{"show": true, "alignAsTable": true, "max": true, "current": true},
		"targets": []any{map[string]any{"legendFormat": "{{pod}}"}}}
	st, err = StyleFromPanel(graph)
	if err != nil || st.Unit != "bytes" || *st.Min != 0 || st.Max != nil || st.FillOpacity != 10 || strings.Join(st.LegendCalcs, ",") != "max,lastNotNull" || st.LegendDisplay != "table" || st.LegendFormat != "{{pod}}" {
		t.Errorf("graph panel: %+v %v", st, err)
	}

	// Wrong types and values are clear errors.
	bad := []map[string]any{
		nil,
		{"fieldConfig": map[string]any{"defaults": map[string]any{"unit": 5}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"min": 10, "max": 5}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"custom": map[string]any{"fillOpacity": 150}}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"color": map[string]any{"mode": "fixed", "fixedColor": "not-a-colour"}}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"custom": map[string]any{"spanNulls": "yes"}}}},
		{"options": map[string]any{"legend": map[string]any{"calcs": []any{"p99"}}}},
		{"options": map[string]any{"legend": map[string]any{"displayMode": "sideways"}}},
	}
	for i, p := range bad {
		if _, err := StyleFromPanel(p); err == nil {
			t.Errorf("bad panel %d accepted", i)
		}
	}
}
