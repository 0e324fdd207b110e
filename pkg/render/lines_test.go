package render

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestGapsBreakLines(t *testing.T) {
	t.Parallel()
	pts := flat(20, 1, 15*time.Second)
	pts[5].V = math.NaN()
	pts = append(pts[:12], pts[15:]...) // 45 s hole: 3 × the step
	runs := splitRuns(pts, 2*typicalStep(pts), false)
	if len(runs) != 3 {
		t.Fatalf("want 3 runs (NaN and hole break the line), got %d", len(runs))
	}
	if len(runs[0]) != 5 || len(runs[1]) != 6 || len(runs[2]) != 5 {
		t.Errorf("run lengths %d %d %d", len(runs[0]), len(runs[1]), len(runs[2]))
	}
	// spanNulls joins the hole but a NaN still ends a run.
	r := &resolved{st: Style{SpanNulls: true}}
	if n := len(splitRuns(pts, r.maxGap(pts), false)); n != 2 {
		t.Errorf("spanNulls: want 2 runs, got %d", n)
	}
	// A drawn gap leaves the background visible between the runs.
	c := &Chart{Series: []series.Series{{Name: "x", Points: pts}}, From: t0, To: t0.Add(5 * time.Minute), Min: ptrF(0), Max: ptrF(2)}
	rr, img := drawChart(t, c, Options{})
	y := int(math.Round(rr.pl.y(1)))
	holeX := int(rr.pl.xms(t0.Add(12*15*time.Second + 20*time.Second).UnixMilli()))
	lineX := int(rr.pl.xms(t0.Add(2 * 15 * time.Second).UnixMilli()))
	green := func(x int) bool { p := img.RGBAAt(x, y); return p.G > 150 && p.R < 160 }
	if !green(lineX) {
		t.Errorf("line not drawn at x=%d", lineX)
	}
	if green(holeX) {
		t.Errorf("line drawn across the gap at x=%d", holeX)
	}
}

func TestDecimateKeepsEnvelope(t *testing.T) {
	t.Parallel()
	var p []pt
	for i := 0; i < 10000; i++ {
		p = append(p, pt{float64(i) / 100, math.Sin(float64(i)) * float64(i%97)})
	}
	type mm struct{ lo, hi float64 }
	env := func(p []pt) map[int]mm {
		m := map[int]mm{}
		for _, q := range p {
			c := int(math.Floor(q.x))
			e, ok := m[c]
			if !ok {
				e = mm{q.y, q.y}
			}
			m[c] = mm{math.Min(e.lo, q.y), math.Max(e.hi, q.y)}
		}
		return m
	}
	want := env(p)
	first, last := p[0], p[len(p)-1]
	d := decimate(append([]pt(nil), p...))
	if len(d) > 4*len(want) {
		t.Errorf("decimated to %d points for %d columns", len(d), len(want))
	}
	if got := env(d); len(got) != len(want) {
		t.Fatalf("columns %d, want %d", len(got), len(want))
	} else {
		for c, w := range want {
			if got[c] != w {
				t.Errorf("column %d envelope %v, want %v", c, got[c], w)
			}
		}
	}
	if d[0] != first || d[len(d)-1] != last {
		t.Error("end points moved")
	}
	for i := 1; i < len(d); i++ {
		if d[i].x < d[i-1].x {
			t.Fatal("order lost")
		}
	}
}

func TestStepInterpolation(t *testing.T) {
	t.Parallel()
	p := []pt{{0, 10}, {10, 20}, {20, 5}}
	after := steps(nil, p, "stepAfter")
	want := []pt{{0, 10}, {10, 10}, {10, 20}, {20, 20}, {20, 5}}
	if len(after) != len(want) {
		t.Fatalf("stepAfter %v", after)
	}
	for i := range want {
		if after[i] != want[i] {
			t.Errorf("stepAfter[%d] = %v, want %v", i, after[i], want[i])
		}
	}
	before := steps(nil, p, "stepBefore")
	if before[1] != (pt{0, 20}) || before[3] != (pt{10, 5}) {
		t.Errorf("stepBefore %v", before)
	}
	if len(steps(nil, p, "linear")) != 0 {
		t.Error("linear must not add points")
	}
}

func TestReferencesAreDrawnInThresholdColour(t *testing.T) {
	t.Parallel()
	s := series.Series{Name: "a", Points: wave(120, 50, 10, 0)}
	ref := series.Series{Name: "< ref", Points: make([]series.Point, len(s.Points))}
	for i, p := range s.Points {
		ref.Points[i] = series.Point{T: p.T, V: 45}
	}
	with, a := drawChart(t, &Chart{Series: []series.Series{s}, References: []series.Series{ref}}, Options{})
	_, b := drawChart(t, &Chart{Series: []series.Series{s}}, Options{})
	if bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("the reference line changed nothing")
	}
	if len(with.lg.rows) != 1 {
		t.Fatalf("references got legend rows: %d", len(with.lg.rows))
	}
}
