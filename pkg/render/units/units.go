// Package units formats numbers the way Grafana's value formatters do, so a
// chart drawn by AlertChart reads like the panel the user built in Grafana:
// "94.3%", "3.68 GiB", "236 ms", "1.20K req/s".
//
// The unit ids are Grafana's (fieldConfig.defaults.unit). Auto decimals follow
// Grafana's toFixed/getDecimalsForValue (about three significant digits);
// scaled units pick the prefix from the value's magnitude. Unknown ids behave
// like Grafana's custom units: "suffix:x", "prefix:x", "si:x", "count:x",
// "currency:x", and a plain unknown id is appended as a suffix.
package units

import (
	"math"
	"strconv"
	"strings"
)

// Formatter formats one value; decimals < 0 means automatic.
type Formatter func(v float64, decimals int) (text, suffix string)

// Auto is the decimals value meaning "choose like Grafana".
const Auto = -1

// Format formats v in unit with the given decimals (Auto for automatic).
func Format(unit string, v float64, decimals int) string {
	t, s := Lookup(unit)(v, decimals)
	return t + s
}

// Lookup returns the formatter for a Grafana unit id. It never fails: unknown
// ids format like Grafana's custom suffix units.
func Lookup(unit string) Formatter {
	if f, ok := table[unit]; ok {
		return f
	}
	if i := strings.IndexByte(unit, ':'); i > 0 {
		kind, arg := unit[:i], unit[i+1:]
		switch kind {
		case "suffix":
			return func(v float64, d int) (string, string) { return ToFixed(v, d), arg }
		case "prefix":
			return func(v float64, d int) (string, string) { return arg + ToFixed(v, d), "" }
		case "si":
			return siPrefix(arg, 0)
		case "count":
			return countUnit(arg)
		case "currency":
			return currency(arg)
		}
	}
	if unit == "" {
		return none
	}
	return func(v float64, d int) (string, string) { return ToFixed(v, d), " " + unit }
}

// Known reports whether unit is one of the built-in Grafana unit ids.
func Known(unit string) bool {
	_, ok := table[unit]
	return ok
}

func none(v float64, d int) (string, string) { return ToFixed(v, d), "" }

func fixedSuffix(s string) Formatter {
	return func(v float64, d int) (string, string) { return ToFixed(v, d), s }
}

// table maps Grafana unit ids to formatters.
var table = map[string]Formatter{
	"":            none,
	"none":        none,
	"short":       scaled(1000, []string{"", " K", " Mil", " Bil", " Tri", " Quadr", " Quint", " Sext", " Sept"}, 0),
	"sishort":     siPrefix("", 0),
	"percent":     fixedSuffix("%"),
	"percentunit": func(v float64, d int) (string, string) { return ToFixed(v*100, d), "%" },
	"humidity":    fixedSuffix("%H"),
	"dB":          fixedSuffix(" dB"),
	"celsius":     fixedSuffix("°C"),
	"fahrenheit":  fixedSuffix("°F"),
	"kelvin":      fixedSuffix("K"),
	"hex":         hex,
	"bool":        boolean,

	// data (IEC and SI)
	"bytes":     binaryPrefix("B", 0),
	"decbytes":  siPrefix("B", 0),
	"bits":      binaryPrefix("b", 0),
	"decbits":   siPrefix("b", 0),
	"kbytes":    binaryPrefix("B", 1),
	"deckbytes": siPrefix("B", 1),
	"mbytes":    binaryPrefix("B", 2),
	"decmbytes": siPrefix("B", 2),
	"gbytes":    binaryPrefix("B", 3),
	"decgbytes": siPrefix("B", 3),
	"tbytes":    binaryPrefix("B", 4),
	"dectbytes": siPrefix("B", 4),
	"pbytes":    binaryPrefix("B", 5),
	"decpbytes": siPrefix("B", 5),
	"kbits":     binaryPrefix("b", 1),
	"mbits":     binaryPrefix("b", 2),

	// data rate
	"pps":    siPrefix("p/s", 0),
	"bps":    siPrefix("b/s", 0),
	"Bps":    siPrefix("B/s", 0),
	"binbps": binaryPrefix("b/s", 0),
	"binBps": binaryPrefix("B/s", 0),
	"Kbits":  siPrefix("b/s", 1),
	"KBs":    siPrefix("B/s", 1),
	"Mbits":  siPrefix("b/s", 2),
	"MBs":    siPrefix("B/s", 2),
	"Gbits":  siPrefix("b/s", 3),
	"GBs":    siPrefix("B/s", 3),
	"Tbits":  siPrefix("b/s", 4),
	"TBs":    siPrefix("B/s", 4),
	"KiBs":   binaryPrefix("B/s", 1),
	"MiBs":   binaryPrefix("B/s", 2),
	"GiBs":   binaryPrefix("B/s", 3),

	// throughput
	"ops":    countUnit("ops/s"),
	"reqps":  countUnit("req/s"),
	"rps":    countUnit("rd/s"),
	"wps":    countUnit("wr/s"),
	"iops":   countUnit("io/s"),
	"eps":    countUnit("evt/s"),
	"mps":    countUnit("msg/s"),
	"recps":  countUnit("rec/s"),
	"rowsps": countUnit("rows/s"),
	"cps":    countUnit("c/s"),
	"opm":    countUnit("ops/min"),
	"reqpm":  countUnit("req/min"),
	"rpm":    countUnit("rd/min"),
	"wpm":    countUnit("wr/min"),
	"epm":    countUnit("evt/min"),
	"mpm":    countUnit("msg/min"),
	"cpm":    countUnit("c/min"),

	// time
	"ns": toNanoSeconds,
	"µs": toMicroSeconds,
	"us": toMicroSeconds,
	"ms": toMilliSeconds,
	"s":  toSeconds,
	"m":  toMinutes,
	"h":  toHours,
	"d":  toDays,

	// frequency, energy and friends (SI)
	"hertz":    siPrefix("Hz", 0),
	"watt":     siPrefix("W", 0),
	"kwatt":    siPrefix("W", 1),
	"voltamp":  siPrefix("VA", 0),
	"volt":     siPrefix("V", 0),
	"amp":      siPrefix("A", 0),
	"joule":    siPrefix("J", 0),
	"watth":    siPrefix("Wh", 0),
	"kwatth":   siPrefix("Wh", 1),
	"lengthm":  siPrefix("m", 0),
	"lengthmm": siPrefix("m", -1),
	"lengthkm": siPrefix("m", 1),
	"massg":    siPrefix("g", 0),
	"masskg":   siPrefix("g", 1),

	// currency
	"currencyUSD": currency("$"),
	"currencyEUR": currency("€"),
	"currencyGBP": currency("£"),
	"currencyJPY": currency("¥"),
	"currencyCNY": currency("¥"),
}

// ToFixed is Grafana's toFixed: decimals < 0 chooses about three significant
// digits, and trailing zeros are kept up to the chosen decimals.
func ToFixed(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.IsInf(v, 1) {
		return "∞"
	}
	if math.IsInf(v, -1) {
		return "-∞"
	}
	if decimals < 0 {
		decimals = decimalsForValue(v)
	}
	if decimals > 20 {
		decimals = 20
	}
	if v == 0 {
		return strconv.FormatFloat(0, 'f', decimals, 64)
	}
	factor := math.Pow(10, float64(decimals))
	r := math.Round(v*factor) / factor
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', decimals, 64)
}

// decimalsForValue is Grafana's getDecimalsForValue.
func decimalsForValue(v float64) int {
	a := math.Abs(v)
	if a == 0 || v == math.Trunc(v) {
		return 0
	}
	log10 := math.Floor(math.Log10(a))
	dec := -log10 + 1
	magn := math.Pow(10, -dec)
	norm := a / magn
	if norm > 2.25 {
		dec++
	}
	if dec < 0 {
		return 0
	}
	return int(dec)
}

// scaled is Grafana's scaledUnits: the prefix index comes from the magnitude.
func scaled(factor float64, ext []string, offset int) Formatter {
	return func(v float64, d int) (string, string) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ToFixed(v, d), ext[clampInt(offset, 0, len(ext)-1)]
		}
		idx := 0
		if v != 0 {
			idx = int(math.Floor(math.Log(math.Abs(v)) / math.Log(factor)))
			// Guard against log rounding at exact powers (1000 → 2.9999…).
			if p := math.Pow(factor, float64(idx+1)); math.Abs(v) >= p {
				idx++
			}
		}
		suffix := ext[clampInt(offset+idx, 0, len(ext)-1)]
		e := clampInt(idx, -offset, len(ext)-offset-1)
		return ToFixed(v/math.Pow(factor, float64(e)), d), suffix
	}
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

var siPrefixes = []string{"f", "p", "n", "µ", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"}

// siPrefix is Grafana's SIPrefix: 1000-based with m/µ/n below one.
func siPrefix(unit string, offset int) Formatter {
	ext := make([]string, len(siPrefixes))
	for i, p := range siPrefixes {
		ext[i] = " " + p + unit
	}
	return scaled(1000, ext, 5+offset)
}

// binaryPrefix is Grafana's binaryPrefix: 1024-based IEC prefixes.
func binaryPrefix(unit string, offset int) Formatter {
	prefixes := []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}
	ext := make([]string, len(prefixes))
	for i, p := range prefixes {
		ext[i] = " " + p + unit
	}
	return scaled(1024, ext, offset)
}

// countUnit is Grafana's simpleCountUnit: "1.20K req/s".
func countUnit(symbol string) Formatter {
	s := scaled(1000, []string{"", "K", "M", "B", "T"}, 0)
	return func(v float64, d int) (string, string) {
		t, suf := s(v, d)
		return t, suf + " " + symbol
	}
}

func currency(symbol string) Formatter {
	s := scaled(1000, []string{"", "K", "M", "B", "T"}, 0)
	return func(v float64, d int) (string, string) {
		t, suf := s(math.Abs(v), d)
		if v < 0 {
			return "-" + symbol + t, suf
		}
		return symbol + t, suf
	}
}

func hex(v float64, d int) (string, string) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ToFixed(v, d), ""
	}
	return strings.ToUpper(strconv.FormatInt(int64(math.Round(v)), 16)), ""
}

func boolean(v float64, _ int) (string, string) {
	if v != 0 && !math.IsNaN(v) {
		return "true", ""
	}
	return "false", ""
}
