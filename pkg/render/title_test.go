package render

import (
	"testing"
	"time"
)

func TestZoneLabel(t *testing.T) {
	t.Parallel()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	ny, _ := time.LoadLocation("America/New_York")
	kol, _ := time.LoadLocation("Asia/Kolkata")
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		loc      *time.Location
		from, to time.Time
		want     string
	}{
		{sh, at.Add(-time.Hour), at, "UTC+08:00"},
		{time.UTC, at.Add(-time.Hour), at, "UTC"},
		{nil, time.Time{}, at, "UTC"},
		{kol, at.Add(-time.Hour), at, "UTC+05:30"},
		{ny, at.Add(-time.Hour), at, "UTC-05:00"},
		{ny, time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), "UTC-04:00/-05:00"},
	} {
		if got := ZoneLabel(c.loc, c.from, c.to); got != c.want {
			t.Errorf("ZoneLabel(%v) = %q, want %q", c.loc, got, c.want)
		}
	}
}
