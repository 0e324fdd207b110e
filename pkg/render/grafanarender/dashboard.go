package grafanarender

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

// Panel keys that would make the copy render something other than the chart
// asked for: repeats multiply the panel, relative time overrides replace the
// alert's window, a library-panel link would load the library model instead
// of ours, legacy alerts and ids belong to the template.
var droppedPanelKeys = []string{"libraryPanel", "repeat", "repeatDirection", "repeatPanelId", "maxPerRow",
	"timeFrom", "timeShift", "hideTimeOverride", "alert", "thresholds", "scopedVars", "pluginVersion"}

// buildDashboard makes the temporary dashboard: one panel, cloned from the
// template, at the top left, carrying the request's query, title,
// thresholds and time range. The template's model is deep-copied first; the
// cached template is never modified.
func buildDashboard(uid string, tmpl *template, req Request) map[string]any {
	panel := deepCopy(tmpl.panel)
	for _, k := range droppedPanelKeys {
		delete(panel, k)
	}
	if v, ok := tmpl.panel["pluginVersion"]; ok {
		panel["pluginVersion"] = v // keeps the panel's own option migrations consistent
	}
	panel["id"] = float64(1)
	panel["title"] = req.Title
	panel["gridPos"] = map[string]any{"x": 0, "y": 0, "w": 24, "h": 12}

	if len(req.Targets) > 0 {
		panel["datasource"] = mixedDatasource(req.Targets)
		targets := make([]any, 0, len(req.Targets))
		for _, t := range req.Targets {
			c := deepCopy(t)
			c["hide"] = false
			targets = append(targets, c)
		}
		panel["targets"] = targets
		if len(req.Match) > 0 {
			panel["transformations"] = append(matchTransformations(req.Match), existing(panel["transformations"])...)
		}
		if len(req.Thresholds) > 0 {
			setThresholds(panel, req.Thresholds)
		}
		return dashboardModel(uid, tmpl, req, panel)
	}

	ds := datasourceFor(panel, req)
	panel["datasource"] = ds
	target := map[string]any{}
	if ts, _ := panel["targets"].([]any); len(ts) > 0 {
		if t0, ok := ts[0].(map[string]any); ok {
			// Keep the template target's options (interval, format, step…).
			for k, v := range t0 {
				target[k] = v
			}
		}
	}
	legend := req.Legend
	if legend == "" {
		legend = "__auto"
	}
	parts := req.Parts
	if len(parts) == 0 {
		parts = []Part{{Query: req.Query}}
	}
	targets := make([]any, 0, len(parts))
	for i, p := range parts {
		t := make(map[string]any, len(target)+8)
		for k, v := range target {
			t[k] = v
		}
		lf := legend
		if p.Name != "" {
			// Each part is named by what tells it apart ("5m"); a legend
			// format or Grafana's automatic one follows it.
			lf = p.Name
			if req.Legend != "" {
				lf += " " + req.Legend
			}
		}
		for k, v := range map[string]any{"refId": string(rune('A' + i)), "expr": p.Query, "legendFormat": lf, "range": true,
			"instant": false, "editorMode": "code", "datasource": ds, "hide": false} {
			t[k] = v
		}
		delete(t, "exemplar")
		targets = append(targets, t)
	}
	panel["targets"] = targets

	if len(req.Thresholds) > 0 {
		setThresholds(panel, req.Thresholds)
	}
	return dashboardModel(uid, tmpl, req, panel)
}

// dashboardModel wraps the panel in the temporary dashboard.
func dashboardModel(uid string, tmpl *template, req Request, panel map[string]any) map[string]any {
	model := map[string]any{
		"uid":   uid,
		"id":    nil,
		"title": "AlertChart render " + uid, // titles must differ within a folder on older Grafanas
		"tags":  []any{Tag},
		"description": "Temporary copy of panel " + jsonNumber(tmpl.panel["id"]) + " of dashboard " + tmpl.dash.UID +
			", made by AlertChart to render one alert chart; deleted after rendering.",
		"editable":      false,
		"graphTooltip":  0,
		"schemaVersion": schemaVersion(tmpl.dash.Model),
		"time": map[string]any{
			"from": req.From.UTC().Format(time.RFC3339Nano),
			"to":   req.To.UTC().Format(time.RFC3339Nano),
		},
		"timezone":    req.Timezone,
		"refresh":     "",
		"panels":      []any{panel},
		"annotations": map[string]any{"list": []any{}},
		"templating":  map[string]any{"list": templating(tmpl, panel)},
		"links":       []any{},
	}
	return model
}

// mixedDatasource is the panel data source for query models: theirs when
// they share one, else Grafana's "-- Mixed --" data source, which lets every
// target name its own.
func mixedDatasource(targets []map[string]any) any {
	var first any
	for i, t := range targets {
		ds := t["datasource"]
		if i == 0 {
			first = ds
			continue
		}
		a, _ := json.Marshal(ds)
		b, _ := json.Marshal(first)
		if string(a) != string(b) {
			return map[string]any{"type": "datasource", "uid": "-- Mixed --"}
		}
	}
	return first
}

// matchTransformations keeps the series whose labels carry match's values,
// with Grafana's transformations (ids and options as in
// packages/grafana-data/src/transformations/transformers: labelsToFields
// turns series labels into columns, filterByValue with the "equal" value
// matcher keeps the rows whose columns all match, prepareTimeSeries
// "multi" makes one series per remaining label set again). A long frame
// (a SQL table with string columns) passes labelsToFields unchanged.
func matchTransformations(match map[string]string) []any {
	names := make([]string, 0, len(match))
	for k := range match {
		names = append(names, k)
	}
	sort.Strings(names)
	filters := make([]any, 0, len(names))
	keep := make([]any, 0, len(names))
	for _, k := range names {
		keep = append(keep, k)
		filters = append(filters, map[string]any{"fieldName": k,
			"config": map[string]any{"id": "equal", "options": map[string]any{"value": match[k]}}})
	}
	return []any{
		map[string]any{"id": "labelsToFields", "options": map[string]any{"mode": "columns", "keepLabels": keep}},
		map[string]any{"id": "filterByValue", "options": map[string]any{"type": "include", "match": "all", "filters": filters}},
		map[string]any{"id": "prepareTimeSeries", "options": map[string]any{"format": "multi"}},
	}
}

func existing(v any) []any {
	l, _ := v.([]any)
	return l
}

// datasourceFor picks the data source: the request's, else the template
// panel's, else its first target's.
func datasourceFor(panel map[string]any, req Request) any {
	if req.DatasourceUID != "" {
		return map[string]any{"type": "prometheus", "uid": req.DatasourceUID}
	}
	if ds, ok := panel["datasource"]; ok && ds != nil {
		return ds
	}
	if ts, _ := panel["targets"].([]any); len(ts) > 0 {
		if t0, ok := ts[0].(map[string]any); ok && t0["datasource"] != nil {
			return t0["datasource"]
		}
	}
	return nil
}

// templating keeps the template's variables only when the copy still refers
// to one (a data source variable such as ${DS_PROMETHEUS}); otherwise the
// copy has none, since the query is concrete.
func templating(tmpl *template, panel map[string]any) []any {
	b, _ := json.Marshal(panel)
	if !strings.Contains(string(b), "$") {
		return []any{}
	}
	tm, _ := tmpl.dash.Model["templating"].(map[string]any)
	list, _ := tm["list"].([]any)
	if list == nil {
		return []any{}
	}
	return deepCopy(map[string]any{"l": list})["l"].([]any)
}

// setThresholds draws the alert's thresholds as lines: an absolute step per
// threshold value, coloured red (the base step stays green), drawn dashed
// unless the template already chose a visible threshold style.
func setThresholds(panel map[string]any, ths []series.Threshold) {
	fc, _ := panel["fieldConfig"].(map[string]any)
	if fc == nil {
		fc = map[string]any{"overrides": []any{}}
		panel["fieldConfig"] = fc
	}
	def, _ := fc["defaults"].(map[string]any)
	if def == nil {
		def = map[string]any{}
		fc["defaults"] = def
	}
	vals := make([]float64, 0, len(ths))
	seen := map[float64]bool{}
	bands := false
	for _, t := range ths {
		lo, hi := t.Bounds()
		for _, v := range []float64{lo, hi} {
			if !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
		bands = bands || t.IsBand()
	}
	sort.Float64s(vals)
	custom, _ := def["custom"].(map[string]any)
	if custom == nil {
		custom = map[string]any{}
		def["custom"] = custom
	}
	if bands {
		// A range threshold is shaded over what it fires on: each step
		// (from its value up to the next) is red where some threshold
		// fires and transparent elsewhere, drawn as dashed lines with
		// areas (Grafana's "dashed+area" thresholds style).
		fires := func(v float64) bool {
			for _, t := range ths {
				if firesAt(t, v) {
					return true
				}
			}
			return false
		}
		colour := func(f bool) string {
			if f {
				return "red"
			}
			return "transparent"
		}
		below := vals[0] - 1
		steps := []any{map[string]any{"color": colour(fires(below)), "value": nil}}
		for i, v := range vals {
			next := v + 1
			if i+1 < len(vals) {
				next = (v + vals[i+1]) / 2
			}
			steps = append(steps, map[string]any{"color": colour(fires(next)), "value": v})
		}
		def["thresholds"] = map[string]any{"mode": "absolute", "steps": steps}
		custom["thresholdsStyle"] = map[string]any{"mode": "dashed+area"}
		return
	}
	steps := []any{map[string]any{"color": "green", "value": nil}}
	for _, v := range vals {
		steps = append(steps, map[string]any{"color": "red", "value": v})
	}
	def["thresholds"] = map[string]any{"mode": "absolute", "steps": steps}
	style, _ := custom["thresholdsStyle"].(map[string]any)
	if mode, _ := style["mode"].(string); mode == "" || mode == "off" {
		custom["thresholdsStyle"] = map[string]any{"mode": "dashed"}
	}
}

// firesAt reports whether a threshold's condition holds for v (the
// boundary itself aside, which steps cannot tell apart).
func firesAt(t series.Threshold, v float64) bool {
	lo, hi := t.Bounds()
	switch {
	case t.IsBand() && t.Inside():
		return v > lo && v < hi
	case t.IsBand():
		return v < lo || v > hi
	}
	switch t.Op {
	case ">", ">=":
		return v > t.Value
	case "<", "<=":
		return v < t.Value
	case "!=":
		return v != t.Value
	}
	return false
}

func schemaVersion(model map[string]any) any {
	if v, ok := model["schemaVersion"].(float64); ok && v > 0 {
		return v
	}
	return float64(39)
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// deepCopy copies a JSON object through encoding/json, so nested maps and
// slices are never shared with the cached template.
func deepCopy(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{}
	}
	return out
}
