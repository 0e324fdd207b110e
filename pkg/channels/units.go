package channels

import (
	"math"
	"strconv"
	"strings"
)

// FormatValue formats v with a Grafana unit id for message texts. It covers
// the units alert rules use most (percent, bytes, rates, durations, SI
// counts); unknown units are printed after the number as they are, so a
// custom "req" or "°C" still reads well.
func FormatValue(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	switch unit {
	case "", "none", "short":
		return siShort(v, "")
	case "percent":
		return num(v) + "%"
	case "percentunit":
		return num(v*100) + "%"
	case "bytes", "decbytes":
		if unit == "bytes" {
			return binary(v, "B")
		}
		return siShort(v, "B")
	case "bits":
		return binary(v, "b")
	case "decbits":
		return siShort(v, "b")
	case "Bps", "binBps":
		if unit == "binBps" {
			return binary(v, "B/s")
		}
		return siShort(v, "B/s")
	case "bps", "binbps":
		if unit == "binbps" {
			return binary(v, "b/s")
		}
		return siShort(v, "b/s")
	case "reqps":
		return siShort(v, " req/s")
	case "ops":
		return siShort(v, " ops/s")
	case "s", "dtdurations":
		return duration(v)
	case "ms":
		return duration(v / 1e3)
	case "µs", "us":
		return duration(v / 1e6)
	case "ns":
		return duration(v / 1e9)
	case "celsius":
		return num(v) + "°C"
	case "hertz":
		return siShort(v, "Hz")
	}
	if strings.HasPrefix(unit, "suffix:") {
		return num(v) + strings.TrimPrefix(unit, "suffix:")
	}
	return num(v) + " " + unit
}

// num prints up to 3 significant decimals without trailing zeros.
func num(v float64) string {
	a := math.Abs(v)
	dec := 2
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		dec = 1
	case a < 1:
		dec = 3
	}
	if a < 0.001 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

var siPrefixes = []string{"", "k", "M", "G", "T", "P", "E"}

// siShort scales by 1000. Word units (" req/s") follow the prefix
// directly ("1.5k req/s"); symbol units get a space ("2.5 GB").
func siShort(v float64, unit string) string {
	a := math.Abs(v)
	i := 0
	for a >= 1000 && i < len(siPrefixes)-1 {
		a /= 1000
		v /= 1000
		i++
	}
	if unit == "" || strings.HasPrefix(unit, " ") {
		return num(v) + siPrefixes[i] + unit
	}
	return num(v) + " " + siPrefixes[i] + unit
}

var binPrefixes = []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}

func binary(v float64, unit string) string {
	a := math.Abs(v)
	i := 0
	for a >= 1024 && i < len(binPrefixes)-1 {
		a /= 1024
		v /= 1024
		i++
	}
	return num(v) + " " + binPrefixes[i] + unit
}

func duration(sec float64) string {
	a := math.Abs(sec)
	switch {
	case a == 0:
		return "0 s"
	case a < 1e-6:
		return num(sec*1e9) + " ns"
	case a < 1e-3:
		return num(sec*1e6) + " µs"
	case a < 1:
		return num(sec*1e3) + " ms"
	case a < 60:
		return num(sec) + " s"
	case a < 3600:
		return num(sec/60) + " min"
	case a < 86400:
		return num(sec/3600) + " hour"
	default:
		return num(sec/86400) + " day"
	}
}
