// Helpers shared by the internal (package render) tests, which sit in
// <source>_test.go next to the file each one exercises.

package render

import (
	"image"
	"math"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

var t0 = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

func flat(n int, v float64, step time.Duration) []series.Point {
	pts := make([]series.Point, n)
	for i := range pts {
		pts[i] = series.Point{T: t0.Add(time.Duration(i) * step).UnixMilli(), V: v}
	}
	return pts
}

func wave(n int, base, amp float64, phase float64) []series.Point {
	pts := make([]series.Point, n)
	for i := range pts {
		pts[i] = series.Point{T: t0.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), V: base + amp*math.Sin(float64(i)/9+phase)}
	}
	return pts
}

// draw renders c without encoding, for pixel checks.
func drawChart(t *testing.T, c *Chart, o Options) (*resolved, *image.RGBA) {
	t.Helper()
	if err := o.normalise(); err != nil {
		t.Fatal(err)
	}
	r, err := resolve(c, o)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := r.draw()
	if err != nil {
		t.Fatal(err)
	}
	return r, cv.img
}

func ptrF(v float64) *float64 { return &v }
