package units

import (
	"math"
	"testing"
)

func TestFormatLikeGrafana(t *testing.T) {
	cases := []struct {
		unit string
		v    float64
		dec  int
		want string
	}{
		// Auto decimals: about three significant digits, zeros kept.
		{"percent", 94.3, Auto, "94.3%"},
		{"percent", 5.97, Auto, "5.97%"},
		{"percent", 100, Auto, "100%"},
		{"percent", 2.3, Auto, "2.30%"},
		{"percent", 1.5, Auto, "1.50%"},
		{"percent", 0, Auto, "0%"},
		{"percentunit", 0.943, Auto, "94.3%"},
		{"percentunit", 0.5, 1, "50.0%"},
		{"none", 1234.5678, Auto, "1235"},
		{"", 0.000123, Auto, "0.000123"},
		{"short", 1234, Auto, "1.23 K"},
		{"short", 1.5e6, Auto, "1.50 Mil"},
		{"short", 0.5, Auto, "0.500"},
		{"short", -2500, Auto, "-2.50 K"},
		// Bytes: IEC and SI.
		{"bytes", 3.68 * (1 << 30), Auto, "3.68 GiB"},
		{"bytes", 711 * (1 << 20), Auto, "711 MiB"},
		{"bytes", 0, Auto, "0 B"},
		{"bytes", 1023, Auto, "1023 B"},
		{"bytes", 1024, Auto, "1 KiB"},
		{"decbytes", 1500, Auto, "1.50 kB"},
		{"decbytes", 2e9, Auto, "2 GB"},
		{"kbytes", 2048, Auto, "2 MiB"},
		{"deckbytes", 10000000, 3, "10.000 GB"},
		{"kbytes", 10000000, 3, "9.537 GiB"},
		// Rates.
		{"bps", 1.5e6, Auto, "1.50 Mb/s"},
		{"Bps", 2500, Auto, "2.50 kB/s"},
		{"binBps", 2048, Auto, "2 KiB/s"},
		{"reqps", 1234, Auto, "1.23K req/s"},
		{"reqps", 12, Auto, "12 req/s"},
		{"ops", 0.5, Auto, "0.500 ops/s"},
		// Time.
		{"s", 0.236, Auto, "236 ms"},
		{"s", 0.0444, Auto, "44.4 ms"},
		{"s", 0, Auto, "0 s"},
		{"s", 90, Auto, "1.50 min"},
		{"s", 0.0000012, Auto, "1.20 µs"},
		{"ms", 1200, Auto, "1.20 s"},
		{"ms", 10000086.123, 1, "2.8 hour"},
		{"ms", 999, Auto, "999 ms"},
		{"µs", 1500, Auto, "1.50 ms"},
		{"ns", 2.5e9, Auto, "2.50 s"},
		// Custom units.
		{"suffix:拍", 3, Auto, "3拍"},
		{"prefix:$", 3.5, 1, "$3.5"},
		{"widgets", 7, Auto, "7 widgets"},
		{"si:W", 1500, Auto, "1.50 kW"},
		{"count:jobs", 1500, Auto, "1.50K jobs"},
		{"celsius", 36.6, Auto, "36.6°C"},
		{"percent", math.NaN(), Auto, "NaN%"},
	}
	for _, c := range cases {
		if got := Format(c.unit, c.v, c.dec); got != c.want {
			t.Errorf("Format(%q, %v, %d) = %q, want %q", c.unit, c.v, c.dec, got, c.want)
		}
	}
}

func TestAxisScale(t *testing.T) {
	cases := []struct {
		unit   string
		maxAbs float64
		div    float64
		suffix string
	}{
		{"bytes", 4 * (1 << 30), 1 << 30, " GiB"},
		{"s", 0.25, 1e-3, " ms"},
		{"percent", 100, 1, "%"},
		{"percentunit", 1, 0.01, "%"},
		{"reqps", 3500, 1000, "K req/s"},
		{"short", 5, 1, ""},
		{"decbytes", 2e6, 1e6, " MB"},
	}
	for _, c := range cases {
		sc, ok := AxisScale(c.unit, c.maxAbs)
		if !ok || sc.Divisor != c.div || sc.Suffix != c.suffix {
			t.Errorf("AxisScale(%q, %v) = %+v, %v; want divisor %v suffix %q", c.unit, c.maxAbs, sc, ok, c.div, c.suffix)
		}
	}
	sc, _ := AxisScale("bytes", 4*(1<<30))
	if got := sc.FormatScaled(0.5*(1<<30), 1); got != "0.5 GiB" {
		t.Errorf("FormatScaled = %q, want 0.5 GiB", got)
	}
	if _, ok := AxisScale("hex", 10); ok {
		t.Error("hex must not claim a divisor scale")
	}
}
