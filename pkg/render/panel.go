package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Reading a Grafana panel's JSON into a Style, so a chart can look like a
// panel the user already styled; legacy "graph" panels are read too.

// StyleFromPanel reads a Grafana time series panel's JSON (as returned inside
// a dashboard by GET /api/dashboards/uid/:uid) into a Style. It reads
// fieldConfig.defaults (unit, decimals, min, max, color, custom.lineWidth,
// custom.fillOpacity, custom.spanNulls, custom.axisSoftMin/Max,
// custom.thresholdsStyle, thresholds), options.legend (calcs, displayMode,
// showLegend, sortBy, sortDesc) and targets[0].legendFormat. Legacy "graph"
// panels are read from yaxes, legend, linewidth and fill. Fields of the
// wrong type are errors; unknown fields are ignored.
func StyleFromPanel(panel map[string]any) (Style, error) {
	var st Style
	if panel == nil {
		return st, fmt.Errorf("panel JSON is empty")
	}
	raw, err := json.Marshal(panel)
	if err != nil {
		return st, fmt.Errorf("panel JSON: %w", err)
	}
	var p panelJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return st, fmt.Errorf("panel JSON does not look like a Grafana panel: %w", err)
	}
	if p.Type == "graph" {
		return styleFromGraphPanel(raw)
	}
	d := p.FieldConfig.Defaults
	st.Unit = d.Unit
	st.Decimals = d.Decimals
	st.Min, st.Max = d.Min, d.Max
	if st.Min != nil && st.Max != nil && *st.Min >= *st.Max {
		return Style{}, fmt.Errorf("panel fieldConfig: min %v is not below max %v", *st.Min, *st.Max)
	}
	if d.Decimals != nil && (*d.Decimals < 0 || *d.Decimals > 20) {
		return Style{}, fmt.Errorf("panel fieldConfig: decimals %d is outside 0–20", *d.Decimals)
	}
	st.ColorMode, st.FixedColor = d.Color.Mode, d.Color.FixedColor
	if st.FixedColor != "" {
		if _, err := ParseColor(st.FixedColor); err != nil {
			return Style{}, fmt.Errorf("panel fieldConfig.color.fixedColor: %w", err)
		}
	}
	c := d.Custom
	if c.LineWidth != nil {
		if *c.LineWidth < 0 || *c.LineWidth > 10 {
			return Style{}, fmt.Errorf("panel custom.lineWidth %v is outside 0–10", *c.LineWidth)
		}
		st.LineWidth = *c.LineWidth
		if st.LineWidth == 0 {
			st.LineWidth = 0.001 // Grafana's 0 hides the line but keeps the fill
		}
	}
	if c.FillOpacity != nil {
		if *c.FillOpacity < 0 || *c.FillOpacity > 100 {
			return Style{}, fmt.Errorf("panel custom.fillOpacity %v is outside 0–100", *c.FillOpacity)
		}
		st.FillOpacity = *c.FillOpacity
	}
	switch v := c.SpanNulls.(type) {
	case nil:
	case bool:
		st.SpanNulls = v
	case float64:
		if v > 0 {
			st.SpanNullsMs = int64(v)
		}
	default:
		return Style{}, fmt.Errorf("panel custom.spanNulls must be a boolean or a number, not %T", v)
	}
	st.SoftMin, st.SoftMax = c.AxisSoftMin, c.AxisSoftMax
	st.LineInterpolation = c.LineInterpolation
	if c.ScaleDistribution.Type == "log" {
		st.LogBase = c.ScaleDistribution.Log
		if st.LogBase == 0 {
			st.LogBase = 2
		}
	}
	st.ThresholdsStyle = c.ThresholdsStyle.Mode
	st.ThresholdsMode = d.Thresholds.Mode
	for i, s := range d.Thresholds.Steps {
		if _, err := ParseColor(s.Color); err != nil && s.Color != "" {
			return Style{}, fmt.Errorf("panel thresholds step %d: %w", i, err)
		}
		st.Thresholds = append(st.Thresholds, ThresholdStep{Color: s.Color, Value: s.Value})
	}

	for i, ov := range p.FieldConfig.Overrides {
		o, ok, err := parseOverride(ov.Matcher.ID, ov.Matcher.Options, func(yield func(id string, v json.RawMessage) error) error {
			for _, pr := range ov.Properties {
				if err := yield(pr.ID, pr.Value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return Style{}, fmt.Errorf("panel fieldConfig.overrides[%d]: %w", i, err)
		}
		if ok {
			st.Overrides = append(st.Overrides, o)
		}
	}

	l := p.Options.Legend
	if l != nil {
		st.LegendCalcs = []string{}
		if l.Calcs != nil {
			st.LegendCalcs = append(st.LegendCalcs, l.Calcs...)
		}
		for _, calc := range st.LegendCalcs {
			if _, ok := calcTitles[calc]; !ok {
				return Style{}, fmt.Errorf("panel options.legend.calcs: unsupported reducer %q", calc)
			}
		}
		st.LegendDisplay = l.DisplayMode
		st.LegendPlacement = l.Placement
		if l.ShowLegend != nil && !*l.ShowLegend {
			st.LegendDisplay = "hidden"
		}
		st.LegendSortBy, st.LegendSortDesc = l.SortBy, l.SortDesc
	}
	if len(p.Targets) > 0 {
		st.LegendFormat = p.Targets[0].LegendFormat
		if st.LegendFormat == "__auto" {
			st.LegendFormat = ""
		}
	}
	if st.LegendFormat == "" && strings.Contains(d.DisplayName, "${__field.labels.") {
		// fieldConfig displayName such as "${__field.labels.instance}".
		st.LegendFormat = displayNameVar.ReplaceAllString(d.DisplayName, "{{$1}}")
	}
	return st, st.validate()
}

// parseOverride reads one Grafana field override. ok is false for matchers
// that cannot select alert series by name (byType, byFrameRefID …) and for
// overrides with no property the renderer uses.
func parseOverride(matcher string, options any, props func(func(id string, v json.RawMessage) error) error) (o Override, ok bool, err error) {
	if matcher != "byName" && matcher != "byRegexp" {
		return o, false, nil
	}
	pattern, isString := options.(string)
	if !isString {
		return o, false, fmt.Errorf("matcher %s wants a string option, got %T", matcher, options)
	}
	o.Matcher, o.Pattern = matcher, pattern
	if matcher == "byRegexp" {
		if o.re, err = regexp.Compile("^(?:" + pattern + ")$"); err != nil {
			return o, false, fmt.Errorf("matcher byRegexp: %w", err)
		}
	}
	used := false
	err = props(func(id string, v json.RawMessage) error {
		switch id {
		case "color":
			var c struct {
				Mode       string `json:"mode"`
				FixedColor string `json:"fixedColor"`
			}
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("color: %w", err)
			}
			if c.Mode == "fixed" && c.FixedColor != "" {
				if _, err := ParseColor(c.FixedColor); err != nil {
					return fmt.Errorf("color: %w", err)
				}
				o.Color, used = c.FixedColor, true
			}
		case "custom.lineWidth", "custom.fillOpacity":
			var f float64
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if id == "custom.lineWidth" {
				if f < 0 || f > 10 {
					return fmt.Errorf("custom.lineWidth %v is outside 0–10", f)
				}
				o.LineWidth = &f
			} else {
				if f < 0 || f > 100 {
					return fmt.Errorf("custom.fillOpacity %v is outside 0–100", f)
				}
				o.FillOpacity = &f
			}
			used = true
		case "custom.hideFrom":
			var h struct {
				Viz bool `json:"viz"`
			}
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("custom.hideFrom: %w", err)
			}
			o.Hidden, used = h.Viz, used || h.Viz
		}
		return nil
	})
	return o, used && err == nil, err
}

type panelJSON struct {
	Type        string `json:"type"`
	FieldConfig struct {
		Defaults struct {
			Unit        string   `json:"unit"`
			DisplayName string   `json:"displayName"`
			Decimals    *int     `json:"decimals"`
			Min         *float64 `json:"min"`
			Max         *float64 `json:"max"`
			Color       struct {
				Mode       string `json:"mode"`
				FixedColor string `json:"fixedColor"`
			} `json:"color"`
			Custom struct {
				LineWidth         *float64 `json:"lineWidth"`
				LineInterpolation string   `json:"lineInterpolation"`
				FillOpacity       *float64 `json:"fillOpacity"`
				SpanNulls         any      `json:"spanNulls"`
				AxisSoftMin       *float64 `json:"axisSoftMin"`
				ScaleDistribution struct {
					Type string  `json:"type"`
					Log  float64 `json:"log"`
				} `json:"scaleDistribution"`
				AxisSoftMax     *float64 `json:"axisSoftMax"`
				ThresholdsStyle struct {
					Mode string `json:"mode"`
				} `json:"thresholdsStyle"`
			} `json:"custom"`
			Thresholds struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options any    `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Options struct {
		Legend *struct {
			Calcs       []string `json:"calcs"`
			DisplayMode string   `json:"displayMode"`
			Placement   string   `json:"placement"`
			ShowLegend  *bool    `json:"showLegend"`
			SortBy      string   `json:"sortBy"`
			SortDesc    bool     `json:"sortDesc"`
		} `json:"legend"`
	} `json:"options"`
	Targets []struct {
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

var displayNameVar = regexp.MustCompile(`\$\{__field\.labels\.([a-zA-Z_][a-zA-Z0-9_]*)\}`)

// styleFromGraphPanel reads Grafana's legacy "graph" panel.
func styleFromGraphPanel(raw []byte) (Style, error) {
	var g struct {
		Yaxes []struct {
			Format   string `json:"format"`
			Decimals *int   `json:"decimals"`
			Min      any    `json:"min"`
			Max      any    `json:"max"`
		} `json:"yaxes"`
		Linewidth *float64 `json:"linewidth"`
		Fill      *float64 `json:"fill"`
		Legend    struct {
			Show         *bool `json:"show"`
			AlignAsTable bool  `json:"alignAsTable"`
			Max, Min     bool
			Avg          bool `json:"avg"`
			Current      bool `json:"current"`
			Total        bool `json:"total"`
		} `json:"legend"`
		Targets []struct {
			LegendFormat string `json:"legendFormat"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return Style{}, fmt.Errorf("graph panel JSON: %w", err)
	}
	var st Style
	if len(g.Yaxes) > 0 {
		y := g.Yaxes[0]
		st.Unit = y.Format
		st.Decimals = y.Decimals
		var err error
		if st.Min, err = looseFloat(y.Min); err != nil {
			return Style{}, fmt.Errorf("graph panel yaxes[0].min: %w", err)
		}
		if st.Max, err = looseFloat(y.Max); err != nil {
			return Style{}, fmt.Errorf("graph panel yaxes[0].max: %w", err)
		}
	}
	if g.Linewidth != nil {
		st.LineWidth = *g.Linewidth
	}
	if g.Fill != nil {
		st.FillOpacity = *g.Fill * 10
	}
	st.LegendCalcs = []string{}
	if g.Legend.Max {
		st.LegendCalcs = append(st.LegendCalcs, "max")
	}
	if g.Legend.Min {
		st.LegendCalcs = append(st.LegendCalcs, "min")
	}
	if g.Legend.Avg {
		st.LegendCalcs = append(st.LegendCalcs, "mean")
	}
	if g.Legend.Current {
		st.LegendCalcs = append(st.LegendCalcs, "lastNotNull")
	}
	if g.Legend.Total {
		st.LegendCalcs = append(st.LegendCalcs, "sum")
	}
	st.LegendDisplay = "list"
	if g.Legend.AlignAsTable {
		st.LegendDisplay = "table"
	}
	if g.Legend.Show != nil && !*g.Legend.Show {
		st.LegendDisplay = "hidden"
	}
	if len(g.Targets) > 0 {
		st.LegendFormat = g.Targets[0].LegendFormat
	}
	return st, st.validate()
}

// looseFloat reads the graph panel's min/max, which are strings or numbers.
func looseFloat(v any) (*float64, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case float64:
		return &x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		var f float64
		if _, err := fmt.Sscan(x, &f); err != nil {
			return nil, fmt.Errorf("%q is not a number", x)
		}
		return &f, nil
	}
	return nil, fmt.Errorf("want a number, got %T", v)
}
