package render

import "testing"

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
