package render

import (
	"math"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

// TestMarkerLabelsStayReadable: start and end labels never overlap on one
// row, never leave the plot, and an end label near the right edge does not
// cross the start line.
func TestMarkerLabelsStayReadable(t *testing.T) {
	t.Parallel()
	const left, right, gap, spacing, w = 50.0, 990.0, 6.0, 8.0, 120.0
	for _, c := range []struct{ xs, xe float64 }{
		{100, 900}, {700, 760}, {940, 975}, {960, 985}, {600, 985}, {55, 70},
	} {
		s, e := layoutMarkerLabels(c.xs, w, true, c.xe, w, left, right, gap, spacing)
		for _, l := range []markerLabel{s, e} {
			if l.x < left || l.x+l.w > right {
				t.Errorf("%v: label %+v leaves [%v, %v]", c, l, left, right)
			}
		}
		if s.row == e.row && e.x < s.x+s.w+spacing && s.x < e.x+e.w+spacing {
			t.Errorf("%v: labels overlap on row %d: %+v %+v", c, s.row, s, e)
		}
		if e.x < c.xs && e.x+e.w > c.xs {
			t.Errorf("%v: end label %+v crosses the start line", c, e)
		}
	}
}

// TestMarkerLabelLeavesTheSeriesVisible: an alert that fires at the end of
// the window on a series near the top of the plot (the demo's CPU at 98%)
// must not have its peak hidden behind the "告警开始" label's backing; the
// label goes to the bottom of the plot, where no series runs.
func TestMarkerLabelLeavesTheSeriesVisible(t *testing.T) {
	t.Parallel()
	pts := make([]series.Point, 60)
	for i := range pts {
		v := 30.0
		if i >= 30 {
			v = math.Min(99, 30+float64(i-30)*5)
		}
		pts[i] = series.Point{T: t0.Add(time.Duration(i) * 2 * time.Second).UnixMilli(), V: v}
	}
	end := t0.Add(118 * time.Second)
	c := &Chart{
		Title: "HostHighCpuUsage", Unit: "percent",
		Series:     []series.Series{{Name: "node-2", Points: pts}},
		Thresholds: []series.Threshold{{Value: 80, Op: ">"}},
		AlertStart: end.Add(-2 * time.Second), From: t0, To: end,
	}
	r, img := drawChart(t, c, Options{})
	col := r.rows[0].Color
	near := func(x, y float64) bool {
		for dy := -2; dy <= 2; dy++ {
			for dx := -2; dx <= 2; dx++ {
				p := img.RGBAAt(int(x)+dx, int(y)+dy)
				if absDiff(p.R, col.R)+absDiff(p.G, col.G)+absDiff(p.B, col.B) < 90 {
					return true
				}
			}
		}
		return false
	}
	hidden := 0
	for _, p := range pts[45:58] {
		if !near(r.pl.xms(p.T), r.pl.y(p.V)) {
			hidden++
		}
	}
	if hidden > 0 {
		t.Errorf("%d of 13 samples at the top right are not drawn (hidden by the marker label?)", hidden)
	}
}
