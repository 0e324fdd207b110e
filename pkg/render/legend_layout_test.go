package render

import (
	"testing"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestLegendCapShowsMore(t *testing.T) {
	t.Parallel()
	var ss []series.Series
	for i := 0; i < 40; i++ {
		ss = append(ss, series.Series{Name: string(rune('a' + i%26)), Points: wave(60, float64(i), 3, float64(i))})
	}
	r, _ := drawChart(t, &Chart{Series: ss}, Options{Language: "en"})
	shown := len(r.lg.rows)
	if shown+r.lg.more != 40 || r.lg.more == 0 {
		t.Fatalf("shown %d + more %d != 40", shown, r.lg.more)
	}
	if r.lg.height > float64(r.h)*0.5+1 {
		t.Errorf("legend %v px is more than half of %d", r.lg.height, r.h)
	}
	r, _ = drawChart(t, &Chart{Series: ss}, Options{MaxLegendRows: 5})
	if len(r.lg.rows) != 4 || r.lg.more != 36 {
		t.Errorf("MaxLegendRows 5: %d rows + %d more", len(r.lg.rows), r.lg.more)
	}
}

func TestHiddenSeriesCountInLegend(t *testing.T) {
	t.Parallel()
	ss := []series.Series{{Name: "a", Points: wave(60, 1, 3, 1)}, {Name: "b", Points: wave(60, 2, 3, 2)}}
	r, _ := drawChart(t, &Chart{Series: ss, HiddenSeries: 7}, Options{Language: "en"})
	if len(r.lg.rows) != 2 || r.lg.more != 7 {
		t.Fatalf("rows %d, more %d; want 2 rows and 7 more", len(r.lg.rows), r.lg.more)
	}
	r, _ = drawChart(t, &Chart{Series: ss, HiddenSeries: 7}, Options{Language: "en", MaxLegendRows: 2})
	if len(r.lg.rows) != 1 || r.lg.more != 8 {
		t.Fatalf("capped: rows %d, more %d; want 1 row and 8 more", len(r.lg.rows), r.lg.more)
	}
}
