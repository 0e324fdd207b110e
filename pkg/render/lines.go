package render

import (
	"image"
	"math"
	"sort"

	"github.com/alertchart/alertchart/pkg/series"
)

// drawSeries fills and strokes every series, breaking lines at NaN samples
// and at gaps longer than twice the series' usual step.
func (r *resolved) drawSeries(cv *canvas, pl plotArea, plot image.Rectangle, ps []plotted) {
	base := pl.y(0)
	if pl.log || pl.lo > 0 {
		base = pl.bottom
	} else if pl.hi < 0 {
		base = pl.top
	}
	var buf, stepped []pt
	for _, p := range ps {
		if p.hidden {
			continue
		}
		lwCSS, lw := p.lineWidth, r.px(p.lineWidth)
		maxGap := r.maxGap(p.pts)
		fill := withAlpha(p.color, p.fillOpacity/100)
		runs := splitRuns(p.pts, maxGap, pl.log)
		for _, run := range runs {
			buf = buf[:0]
			for _, s := range run {
				buf = append(buf, pt{pl.xms(s.T), pl.y(s.V)})
			}
			if len(buf) > 4*int(pl.right-pl.left) {
				buf = decimate(buf)
			}
			stepped = steps(stepped[:0], buf, r.st.LineInterpolation)
			line := buf
			if len(stepped) > 0 {
				line = stepped
			}
			if p.fillOpacity > 0 && len(line) > 1 {
				cv.fillUnder(line, base, fill, plot)
			}
			if lwCSS >= 0.01 {
				cv.polyline(line, lw, p.color, plot)
			}
			// Like Grafana's showPoints "auto": samples far apart (or alone)
			// get a dot, so a lone sample is not invisible.
			if len(buf) == 1 || (len(buf) > 1 && (buf[len(buf)-1].x-buf[0].x)/float64(len(buf)-1) > r.px(sparsePointGap)) {
				rad := math.Max(r.px(dotRadius), lw)
				for _, q := range buf {
					cv.polygonsIn(plot, p.color, func(ox, oy float64) { cv.dot(q.x-ox, q.y-oy, rad) }, q.x-rad-1, q.y-rad-1, q.x+rad+1, q.y+rad+1)
				}
			}
		}
	}
}

// steps appends to dst the corner points of a stepped line through p
// ("stepAfter" holds a value until the next sample, "stepBefore" jumps at the
// previous one); for other modes it appends nothing.
func steps(dst, p []pt, mode string) []pt {
	if (mode != "stepAfter" && mode != "stepBefore") || len(p) < 2 {
		return dst
	}
	for i, q := range p {
		if i > 0 {
			if mode == "stepAfter" {
				dst = append(dst, pt{q.x, p[i-1].y})
			} else {
				dst = append(dst, pt{p[i-1].x, q.y})
			}
		}
		dst = append(dst, q)
	}
	return dst
}

// decimate keeps, for every device pixel column, the first, lowest,
// highest and last point (in their original order). The drawn envelope is
// unchanged, but a series with 100k samples costs no more than the width.
func decimate(p []pt) []pt {
	w := 0
	for i := 0; i < len(p); {
		col := math.Floor(p[i].x)
		j, lo, hi := i, i, i
		for j < len(p) && math.Floor(p[j].x) == col {
			if p[j].y < p[lo].y {
				lo = j
			}
			if p[j].y > p[hi].y {
				hi = j
			}
			j++
		}
		idx := [4]int{i, min(lo, hi), max(lo, hi), j - 1}
		var keep [4]pt
		n := 0
		for k, v := range idx {
			if k == 0 || v != idx[k-1] {
				keep[n] = p[v]
				n++
			}
		}
		w += copy(p[w:], keep[:n])
		i = j
	}
	return p[:w]
}

// maxGap is the longest time between samples that still joins them.
func (r *resolved) maxGap(pts []series.Point) int64 {
	if r.st.SpanNulls {
		return math.MaxInt64
	}
	if r.st.SpanNullsMs > 0 {
		return r.st.SpanNullsMs
	}
	return 2 * typicalStep(pts)
}

// typicalStep is the median spacing of the samples (their query step).
func typicalStep(pts []series.Point) int64 {
	if len(pts) < 2 {
		return math.MaxInt64 / 4
	}
	n := min(len(pts)-1, 256)
	d := make([]int64, 0, n)
	stride := max(1, (len(pts)-1)/n)
	for i := 0; i+1 < len(pts) && len(d) < n; i += stride {
		if g := pts[i+1].T - pts[i].T; g > 0 {
			d = append(d, g)
		}
	}
	if len(d) == 0 {
		return math.MaxInt64 / 4
	}
	sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	return d[len(d)/2]
}

// splitRuns cuts the samples into runs without NaN/Inf values (nor values
// ≤ 0 on a log axis) and without gaps longer than maxGap.
func splitRuns(pts []series.Point, maxGap int64, positive bool) [][]series.Point {
	var runs [][]series.Point
	start := -1
	for i, p := range pts {
		if !finite(p.V) || (positive && p.V <= 0) {
			if start >= 0 {
				runs = append(runs, pts[start:i])
				start = -1
			}
			continue
		}
		if start >= 0 && p.T-pts[i-1].T > maxGap {
			runs = append(runs, pts[start:i])
			start = -1
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		runs = append(runs, pts[start:])
	}
	return runs
}

// drawReferences draws moving thresholds as thin lines in the threshold colour.
func (r *resolved) drawReferences(cv *canvas, pl plotArea, plot image.Rectangle) {
	col := withAlpha(r.th.threshold, 0.85)
	var buf []pt
	for _, ref := range r.References {
		for _, run := range splitRuns(ref.Points, r.maxGap(ref.Points), pl.log) {
			buf = buf[:0]
			for _, s := range run {
				buf = append(buf, pt{pl.xms(s.T), pl.y(s.V)})
			}
			if len(buf) > 4*int(pl.right-pl.left) {
				buf = decimate(buf)
			}
			if len(buf) > 1 {
				cv.polyline(buf, r.px(referenceWidth), col, plot)
			}
		}
	}
}
