package render

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Style is the look of a panel: what a Grafana time series panel's
// fieldConfig.defaults and options.legend say. The zero Style means Grafana's
// defaults plus a Max/Min/Last table legend, which suits alert charts.
type Style struct {
	// Unit is a Grafana unit id ("percent", "bytes", "s", "reqps", …).
	Unit string
	// Decimals fixes the number of decimals; nil means automatic.
	Decimals *int
	// Min and Max fix the y-axis range; SoftMin/SoftMax only widen it.
	Min, Max, SoftMin, SoftMax *float64
	// LogBase is 2 or 10 for a logarithmic value axis
	// (custom.scaleDistribution), 0 for linear.
	LogBase float64

	// ColorMode is Grafana's color.mode: "palette-classic" (default),
	// "palette-classic-by-name", "fixed", "shades" or "thresholds".
	ColorMode string
	// FixedColor is color.fixedColor for "fixed" and "shades".
	FixedColor string

	// LineWidth in CSS pixels; 0 means 1.
	LineWidth float64
	// FillOpacity is 0–100 (Grafana's custom.fillOpacity).
	FillOpacity float64
	// LineInterpolation is "linear" (default), "smooth" (drawn linear),
	// "stepBefore" or "stepAfter".
	LineInterpolation string
	// SpanNulls connects lines across missing samples: nil/false breaks at
	// gaps, true never breaks, a positive SpanNullsMs breaks only at gaps
	// longer than that many milliseconds.
	SpanNulls   bool
	SpanNullsMs int64

	// Thresholds are the panel's threshold steps (base step has nil Value).
	Thresholds []ThresholdStep
	// ThresholdsMode is "absolute" (default) or "percentage".
	ThresholdsMode string
	// ThresholdsStyle is custom.thresholdsStyle.mode: "off" (default), "line",
	// "dashed", "area", "line+area", "dashed+area".
	ThresholdsStyle string

	// LegendCalcs are Grafana reducer ids: "max", "min", "mean",
	// "lastNotNull", "last", "firstNotNull", "first", "sum", "count", "range",
	// "delta", "diff". Nil means max, min, lastNotNull; an empty non-nil slice
	// means no value columns.
	LegendCalcs []string
	// LegendDisplay is "table" (default), "list" or "hidden".
	LegendDisplay string
	// LegendPlacement is "bottom" (default) or "right" (a table beside the
	// plot).
	LegendPlacement string
	// LegendSortBy is a column title such as "Max" or "Last *"; empty keeps
	// series order.
	LegendSortBy   string
	LegendSortDesc bool
	// LegendFormat, e.g. "{{instance}}", comes from the template panel's first
	// query and wins over Options.LegendFormat.
	LegendFormat string
	// Overrides are the panel's by-name field overrides (colour, line width,
	// fill opacity, hidden).
	Overrides []Override
}

// Override is a field override of the template panel that selects series by
// name ("byName": exact, "byRegexp": a regular expression matching the whole
// name), applied to the legend name of each alert series.
type Override struct {
	Matcher string
	Pattern string
	// Color is a fixed colour; LineWidth and FillOpacity replace the
	// panel's; Hidden leaves the series out of the plot (custom.hideFrom.viz).
	Color       string
	LineWidth   *float64
	FillOpacity *float64
	Hidden      bool
	re          *regexp.Regexp
}

func (o Override) matches(names ...string) bool {
	for _, n := range names {
		if n == "" {
			continue
		}
		switch o.Matcher {
		case "byName":
			if n == o.Pattern {
				return true
			}
		case "byRegexp":
			re := o.re
			if re == nil {
				var err error
				if re, err = regexp.Compile("^(?:" + o.Pattern + ")$"); err != nil {
					return false
				}
			}
			if re.MatchString(n) {
				return true
			}
		}
	}
	return false
}

// ThresholdStep is one step of a Grafana threshold scheme.
type ThresholdStep struct {
	Color string
	// Value is nil for the base step (-∞).
	Value *float64
}

// validate checks the enumerations a Style may hold.
func (s Style) validate() error {
	switch s.ColorMode {
	case "", "palette-classic", "palette-classic-by-name", "fixed", "shades", "thresholds":
	default:
		if !strings.HasPrefix(s.ColorMode, "continuous-") && !strings.HasPrefix(s.ColorMode, "palette-") {
			return fmt.Errorf("style: unknown colour mode %q", s.ColorMode)
		}
	}
	for i, o := range s.Overrides {
		switch o.Matcher {
		case "byName":
		case "byRegexp":
			if _, err := regexp.Compile("^(?:" + o.Pattern + ")$"); err != nil {
				return fmt.Errorf("style: override %d: %w", i, err)
			}
		default:
			return fmt.Errorf("style: override %d: matcher must be byName or byRegexp, not %q", i, o.Matcher)
		}
		if o.Color != "" {
			if _, err := ParseColor(o.Color); err != nil {
				return fmt.Errorf("style: override %d: %w", i, err)
			}
		}
	}
	if s.LogBase != 0 && s.LogBase != 2 && s.LogBase != 10 {
		return fmt.Errorf("style: log base must be 2 or 10, not %v", s.LogBase)
	}
	switch s.LineInterpolation {
	case "", "linear", "smooth", "stepBefore", "stepAfter":
	default:
		return fmt.Errorf("style: unknown line interpolation %q", s.LineInterpolation)
	}
	switch s.LegendDisplay {
	case "", "table", "list", "hidden":
	default:
		return fmt.Errorf("style: legend display must be table, list or hidden, not %q", s.LegendDisplay)
	}
	switch s.LegendPlacement {
	case "", "bottom", "right":
	default:
		return fmt.Errorf("style: legend placement must be bottom or right, not %q", s.LegendPlacement)
	}
	switch s.ThresholdsStyle {
	case "", "off", "line", "dashed", "area", "line+area", "dashed+area", "series":
	default:
		return fmt.Errorf("style: unknown thresholds style %q", s.ThresholdsStyle)
	}
	switch s.ThresholdsMode {
	case "", "absolute", "percentage":
	default:
		return fmt.Errorf("style: thresholds mode must be absolute or percentage, not %q", s.ThresholdsMode)
	}
	for _, c := range s.LegendCalcs {
		if _, ok := calcTitles[c]; !ok {
			return fmt.Errorf("style: unsupported legend calc %q", c)
		}
	}
	if s.FillOpacity < 0 || s.FillOpacity > 100 || math.IsNaN(s.FillOpacity) {
		return fmt.Errorf("style: fill opacity %v is outside 0–100", s.FillOpacity)
	}
	if s.LineWidth < 0 || s.LineWidth > 10 || math.IsNaN(s.LineWidth) {
		return fmt.Errorf("style: line width %v is outside 0–10", s.LineWidth)
	}
	if s.FixedColor != "" {
		if _, err := ParseColor(s.FixedColor); err != nil {
			return fmt.Errorf("style: %w", err)
		}
	}
	return nil
}

// calcTitles are the legend column headers Grafana shows for each reducer.
var calcTitles = map[string]string{
	"max": "Max", "min": "Min", "mean": "Mean", "lastNotNull": "Last *", "last": "Last",
	"firstNotNull": "First *", "first": "First", "sum": "Total", "count": "Count",
	"range": "Range", "delta": "Delta", "diff": "Difference",
}

var defaultCalcs = []string{"max", "min", "lastNotNull"}
