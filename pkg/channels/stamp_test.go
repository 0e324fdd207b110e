package channels

import (
	"testing"
	"time"
)

func TestStampNamesTheZoneByItsOffset(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 9, 55, 0, 0, time.UTC)
	for zone, want := range map[string]string{
		"UTC":              "2026-01-15 09:55:00 UTC",
		"Asia/Shanghai":    "2026-01-15 17:55:00 UTC+08:00", // "CST" would also be US Central and Cuba
		"America/Chicago":  "2026-01-15 03:55:00 UTC-06:00",
		"America/St_Johns": "2026-01-15 06:25:00 UTC-03:30",
		"Asia/Kolkata":     "2026-01-15 15:25:00 UTC+05:30",
	} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := stamp(at.In(loc)); got != want {
			t.Errorf("%s: stamp = %q, want %q", zone, got, want)
		}
	}
}
