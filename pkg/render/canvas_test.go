package render

import (
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestFarOutOfRangeSamplesAreClipped(t *testing.T) {
	t.Parallel()
	// Values far outside a fixed axis and a sample far outside the window
	// must neither hang the rasteriser nor smear across the plot.
	pts := flat(240, 50, 15*time.Second)
	pts[100].V = 1e300
	pts[101].V = -1e300
	pts = append([]series.Point{{T: t0.Add(-365 * 24 * time.Hour).UnixMilli(), V: 50}}, pts...)
	c := &Chart{Series: []series.Series{{Name: "x", Points: pts}}, From: t0, To: t0.Add(time.Hour), Min: ptrF(0), Max: ptrF(100), Style: Style{FillOpacity: 30}}
	r, img := drawChart(t, c, Options{})
	// The spike is drawn as two near-vertical strokes at its column, not as
	// slanted lines: a column well away from it shows only the flat line.
	x := int(r.pl.xms(pts[50].T))
	inked := 0
	for y := int(r.pl.top) + 2; y < int(r.pl.bottom)-2; y++ {
		if p := img.RGBAAt(x, y); p.G > 150 && p.R < 160 && p.B < 160 {
			inked++
		}
	}
	if inked > 4 {
		t.Errorf("column %d has %d line pixels; the spike smeared", x, inked)
	}
}
