package channels

import (
	"math"

	"github.com/alertchart/alertchart/pkg/render/units"
)

// FormatValue formats v with a Grafana unit id, through the renderer's
// Grafana-compatible formatter, so the value in the message reads exactly
// like the chart's legend ("97.1%", "1.50 KiB", "1.50K req/s"). A gap (NaN)
// prints as "NaN" without a unit.
func FormatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return units.Format(unit, v, units.Auto)
}
