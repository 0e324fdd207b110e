package render

import (
	"image/color"
	"math"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestLegendRowsEqualComputedStats(t *testing.T) {
	t.Parallel()
	ss := []series.Series{
		{Labels: map[string]string{"instance": "a:9100", "job": "node"}, Points: wave(240, 50, 30, 0)},
		{Labels: map[string]string{"instance": "b:9100", "job": "node"}, Points: wave(240, 20, 5, 1)},
	}
	// NaN samples are nulls: they must not become max/min/last.
	ss[1].Points[239].V = math.NaN()
	ss[1].Points[100].V = math.NaN()
	c := &Chart{Series: ss, Unit: "percent", From: t0, To: t0.Add(time.Hour)}
	r, _ := drawChart(t, c, Options{LegendFormat: "{{instance}}"})
	if len(r.rows) != 2 {
		t.Fatalf("want 2 legend rows, got %d", len(r.rows))
	}
	for i, row := range r.rows {
		st := ss[i].Stats()
		want := []float64{st.Max, st.Min, st.Last}
		for j, v := range want {
			if row.Values[j] != v {
				t.Errorf("row %d (%s) %s = %v, want %v", i, row.Name, r.calcs[j], row.Values[j], v)
			}
		}
		if row.Texts[0] != formatFor("percent", st.Max) {
			t.Errorf("row %d max text %q", i, row.Texts[0])
		}
	}
	if r.rows[0].Name != "a:9100" || r.rows[1].Name != "b:9100" {
		t.Errorf("legend format not applied: %q, %q", r.rows[0].Name, r.rows[1].Name)
	}
	if r.calcs[2] != "lastNotNull" || calcTitles[r.calcs[2]] != "Last *" {
		t.Errorf("default calcs = %v", r.calcs)
	}
}

func formatFor(unit string, v float64) string {
	rows := legendRows([]series.Series{{Points: []series.Point{{T: 1, V: v}}}}, []string{"max"}, []color.NRGBA{{}}, "", unit, nil, "", false)
	return rows[0].Texts[0]
}

func TestLegendCalcsAndSort(t *testing.T) {
	t.Parallel()
	pts := []series.Point{{T: 1, V: 5}, {T: 2, V: math.NaN()}, {T: 3, V: 2}, {T: 4, V: 9}, {T: 5, V: math.NaN()}}
	want := map[string]float64{"max": 9, "min": 2, "mean": 16.0 / 3, "sum": 16, "count": 3, "range": 7,
		"firstNotNull": 5, "lastNotNull": 9, "diff": 4, "delta": 9}
	for id, w := range want {
		if got := calc(id, pts); math.Abs(got-w) > 1e-12 {
			t.Errorf("calc(%s) = %v, want %v", id, got, w)
		}
	}
	if !math.IsNaN(calc("last", pts)) {
		t.Error("last must be the last sample even when null")
	}
	ss := []series.Series{
		{Name: "low", Points: []series.Point{{T: 1, V: 1}}},
		{Name: "high", Points: []series.Point{{T: 1, V: 10}}},
		{Name: "mid", Points: []series.Point{{T: 1, V: 5}}},
	}
	rows := legendRows(ss, []string{"max"}, make([]color.NRGBA, 3), "", "", nil, "Max", true)
	if rows[0].Name != "high" || rows[1].Name != "mid" || rows[2].Name != "low" {
		t.Errorf("sort by Max desc: %v", rows)
	}
}

func TestLegendFormat(t *testing.T) {
	t.Parallel()
	s := series.Series{Labels: map[string]string{"__name__": "up", "instance": "h:1", "job": "node"}}
	for format, want := range map[string]string{
		"":                         `up{instance="h:1", job="node"}`,
		"{{instance}}":             "h:1",
		"{{ job }} @ {{instance}}": "node @ h:1",
		"{{missing}}":              `up{instance="h:1", job="node"}`,
		"static":                   "static",
	} {
		if got := legendName(s, format); got != want {
			t.Errorf("legendName(%q) = %q, want %q", format, got, want)
		}
	}
}
