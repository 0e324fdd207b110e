// Axis scales: one prefix and divisor for every tick of an axis.

package units

import (
	"math"
	"strconv"
	"strings"
)

// Scale describes how an axis shows its ticks: every tick is divided by
// Divisor and printed with Suffix, so one axis never mixes "512 MiB" and
// "1 GiB" — it shows "0.5 GiB" and "1.0 GiB" like the reference panels.
type Scale struct {
	Divisor float64
	Prefix  string
	Suffix  string
}

// AxisScale picks the display scale for an axis whose largest absolute tick
// is maxAbs. ok is false for units that cannot be expressed as one divisor
// (e.g. hex, bool); callers then format each tick on its own.
func AxisScale(unit string, maxAbs float64) (sc Scale, ok bool) {
	if maxAbs == 0 || math.IsNaN(maxAbs) || math.IsInf(maxAbs, 0) {
		maxAbs = 1
	}
	f := Lookup(unit)
	switch unit {
	case "hex", "bool", "currencyUSD", "currencyEUR", "currencyGBP", "currencyJPY", "currencyCNY":
		return Scale{}, false
	case "percentunit":
		return Scale{Divisor: 0.01, Suffix: "%"}, true
	}
	if strings.HasPrefix(unit, "prefix:") || strings.HasPrefix(unit, "currency:") {
		return Scale{}, false
	}
	// Probe the formatter: format maxAbs with many decimals and recover the
	// divisor from the printed number.
	text, suffix := f(maxAbs, 10)
	shown, err := strconv.ParseFloat(text, 64)
	if err != nil || shown == 0 {
		return Scale{}, false
	}
	div := maxAbs / shown
	// Snap to the exact power (1000^n, 1024^n, 60, 3600 …) the formatter used.
	for _, p := range []float64{1e-9, 1e-6, 1e-3, 1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 1024, 1 << 20, 1 << 30, 1 << 40, 1 << 50, 60, 3600, 86400, 604800, 60000, 3600000, 86400000, 1440, 10080, 525600, 24, 168, 8760, 7, 365, 3.15569e7, 31536000000, 60e9, 3600e9, 86400e9, 0.01} {
		if math.Abs(div-p)/p < 1e-6 {
			div = p
			break
		}
	}
	return Scale{Divisor: div, Suffix: suffix}, true
}

// FormatScaled formats v on an axis scale with fixed decimals.
func (s Scale) FormatScaled(v float64, decimals int) string {
	return s.Prefix + ToFixed(v/s.Divisor, decimals) + s.Suffix
}
