package render

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestThresholdLineAtExpectedRow(t *testing.T) {
	t.Parallel()
	c := &Chart{
		Series:     []series.Series{{Name: "x", Points: flat(240, 10, 15*time.Second)}},
		Thresholds: []series.Threshold{{Op: ">", Value: 80}},
		From:       t0, To: t0.Add(time.Hour), Unit: "percent",
		Min: ptrF(0), Max: ptrF(100),
	}
	r, img := drawChart(t, c, Options{})
	wantRow := int(math.Round(r.pl.y(80)))
	// With 0–100 over the plot height, 80 % sits 20 % below the top.
	exact := r.pl.top + 0.2*(r.pl.bottom-r.pl.top)
	if math.Abs(float64(wantRow)-exact) > 1 {
		t.Fatalf("y(80) = %d, want ≈ %.1f", wantRow, exact)
	}
	red := func(y int) int {
		n := 0
		for x := int(r.pl.left) + 2; x < int(r.pl.right)-2; x++ {
			p := img.RGBAAt(x, y)
			if p.R > 150 && p.G < 120 && p.B < 130 {
				n++
			}
		}
		return n
	}
	on := red(wantRow)
	if on < int(r.pl.right-r.pl.left)/4 {
		t.Errorf("row %d has only %d threshold-red pixels", wantRow, on)
	}
	// Dashed: a good share of the row is background.
	if on > int(r.pl.right-r.pl.left)*3/4 {
		t.Errorf("threshold line is not dashed: %d red pixels", on)
	}
	for _, dy := range []int{-3, 3} {
		if n := red(wantRow + dy); n > 0 {
			t.Errorf("row %d (offset %d) has %d threshold-red pixels; the line must be 1 px", wantRow+dy, dy, n)
		}
	}
}

// TestBandsShadeWhatFires: a within_range threshold shades the inside of
// its bounds and an outside_range one the outside; both edges are in
// range and the label states the condition.
func TestBandsShadeWhatFires(t *testing.T) {
	t.Parallel()
	s := series.Series{Name: "a", Points: wave(120, 50, 30, 0)} // 20–80
	lo, hi := 40.0, 60.0
	plain, bg := drawChart(t, &Chart{Series: []series.Series{s}}, Options{})
	pixel := func(img *image.RGBA, r *resolved, v float64) color.RGBA {
		x := int(r.pl.left) + 3 // left of the series' first samples is still plot
		return img.RGBAAt(x, int(math.Round(r.pl.y(v))))
	}
	for _, c := range []struct {
		op            string
		shadedInside  bool
		label         string
		outsideProbes []float64
	}{
		{series.OpWithinRange, true, "40 < x < 60", []float64{30, 70}},
		{series.OpOutsideRange, false, "x < 40 or x > 60", []float64{30, 70}},
	} {
		th := series.Threshold{Op: c.op, Value: lo, Upper: &hi}
		r, img := drawChart(t, &Chart{Series: []series.Series{s}, Thresholds: []series.Threshold{th}}, Options{})
		if r.ax.lo > lo || r.ax.hi < hi {
			t.Fatalf("%s: axis %v–%v leaves out the band %v–%v", c.op, r.ax.lo, r.ax.hi, lo, hi)
		}
		inside := pixel(img, r, 50) != pixel(bg, plain, 50)
		if inside != c.shadedInside {
			t.Errorf("%s: inside shaded = %v, want %v", c.op, inside, c.shadedInside)
		}
		for _, v := range c.outsideProbes {
			if got := pixel(img, r, v) != pixel(bg, plain, v); got == c.shadedInside {
				t.Errorf("%s: value %v shaded = %v, want %v", c.op, v, got, !c.shadedInside)
			}
		}
		if got := th.Condition(func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }); got != c.label {
			t.Errorf("%s: label %q, want %q", c.op, got, c.label)
		}
	}
}
