package render

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestTimeTicksRoundInZone(t *testing.T) {
	t.Parallel()
	kolkata, err := time.LoadLocation("Asia/Kolkata") // +05:30
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 25, 4, 3, 0, 0, time.UTC)
	ticks := timeTicks(from, from.Add(time.Hour), kolkata, 900, 80)
	if len(ticks) < 4 {
		t.Fatalf("too few ticks: %v", ticks)
	}
	for _, tk := range ticks {
		lt := tk.t.In(kolkata)
		if lt.Minute()%10 != 0 || lt.Second() != 0 {
			t.Errorf("tick %s is not on a round 10 minutes in Kolkata", lt)
		}
		if tk.label != lt.Format("15:04") {
			t.Errorf("label %q for %s", tk.label, lt)
		}
	}
	// Ticks at least 80 px apart.
	span := float64(time.Hour)
	for i := 1; i < len(ticks); i++ {
		if px := float64(ticks[i].t.Sub(ticks[i-1].t)) / span * 900; px < 80 {
			t.Errorf("ticks %d px apart", int(px))
		}
	}
	// A window across midnight labels the midnight tick with the date.
	ny, _ := time.LoadLocation("America/New_York")
	f2 := time.Date(2026, 11, 24, 20, 0, 0, 0, ny)
	ticks = timeTicks(f2, f2.Add(8*time.Hour), ny, 1000, 80)
	found := false
	for _, tk := range ticks {
		if tk.label == "11/25" {
			found = true
		}
	}
	if !found {
		t.Errorf("no date label at midnight: %v", ticks)
	}
	// Seconds resolution for short windows.
	ticks = timeTicks(from, from.Add(2*time.Minute), time.UTC, 1000, 80)
	if len(ticks) == 0 || len(ticks[0].label) != len("15:04:05") {
		t.Errorf("short window ticks: %v", ticks)
	}
}

func TestYAxisNiceTicks(t *testing.T) {
	t.Parallel()
	ax := buildYAxis(5.97, 95.4, false, false, "percent", nil, 6)
	if ax.lo != 0 || ax.hi != 100 {
		t.Errorf("percent axis %v–%v, want 0–100", ax.lo, ax.hi)
	}
	if strings.Join(ax.labels, " ") != "0% 20% 40% 60% 80% 100%" {
		t.Errorf("labels %v", ax.labels)
	}
	gib := float64(1 << 30)
	ax = buildYAxis(0.23*gib, 3.68*gib, false, false, "bytes", nil, 8)
	if ax.labels[0] != "0 B" || ax.labels[len(ax.labels)-1] != "4.0 GiB" || ax.labels[1] != "0.5 GiB" {
		t.Errorf("bytes labels %v", ax.labels)
	}
	ax = buildYAxis(0.0149, 0.236, false, false, "s", nil, 10)
	if ax.labels[0] != "0 s" || ax.labels[1] != "25 ms" || ax.labels[len(ax.labels)-1] != "250 ms" {
		t.Errorf("seconds labels %v", ax.labels)
	}
	// Rounding up across a prefix boundary re-scales: 980 ms → "1.0 s".
	ax = buildYAxis(0.1, 0.98, false, false, "s", nil, 5)
	if last := ax.labels[len(ax.labels)-1]; last != "1.0 s" {
		t.Errorf("top label %q, want 1.0 s (%v)", last, ax.labels)
	}
	// Fixed min/max and decimals are kept.
	one := 1
	ax = buildYAxis(0, 1, true, true, "percentunit", &one, 5)
	if ax.lo != 0 || ax.hi != 1 || ax.labels[0] != "0.0%" || ax.labels[len(ax.labels)-1] != "100.0%" {
		t.Errorf("percentunit fixed axis %v–%v %v", ax.lo, ax.hi, ax.labels)
	}
	// A flat series still gets a range.
	ax = buildYAxis(7, 7, false, false, "", nil, 5)
	if !(ax.lo < 7 && ax.hi > 7) {
		t.Errorf("flat axis %v–%v", ax.lo, ax.hi)
	}
}

func TestLogAxis(t *testing.T) {
	t.Parallel()
	ax := buildLogAxis(0.003, 7.5, 10, false, false, "s", nil, 10)
	if ax.lo != 0.001 || ax.hi != 10 {
		t.Errorf("log axis %v–%v, want 0.001–10", ax.lo, ax.hi)
	}
	if ax.labels[0] != "1 ms" || ax.labels[len(ax.labels)-1] != "10 s" {
		t.Errorf("log labels %v", ax.labels)
	}
	ax = buildLogAxis(1, 50, 10, false, false, "", nil, 10)
	if strings.Join(ax.labels, " ") != "1 2 5 10 20 50 100" {
		t.Errorf("short log range labels %v", ax.labels)
	}
	// Zero and negative samples are gaps on a log axis; the plot maps
	// powers of the base to equal steps.
	pts := []series.Point{{T: 1, V: 1}, {T: 2, V: 0}, {T: 3, V: 10}, {T: 4, V: 100}}
	if n := len(splitRuns(pts, math.MaxInt64, true)); n != 2 {
		t.Errorf("log runs %d, want 2", n)
	}
	pl := plotArea{top: 0, bottom: 300, lo: 1, hi: 1000, log: true}
	if math.Abs(pl.y(10)-200) > 1e-9 || math.Abs(pl.y(100)-100) > 1e-9 {
		t.Errorf("log mapping y(10)=%v y(100)=%v", pl.y(10), pl.y(100))
	}
	var panel map[string]any
	json.Unmarshal([]byte(`{"type":"timeseries","fieldConfig":{"defaults":{"custom":{"scaleDistribution":{"type":"log","log":10}}}}}`), &panel)
	if st, err := StyleFromPanel(panel); err != nil || st.LogBase != 10 {
		t.Errorf("scaleDistribution: %+v %v", st, err)
	}
	c := &Chart{Series: []series.Series{{Name: "x", Points: wave(240, 50, 49.9, 0)}}, Style: Style{LogBase: 10}, Thresholds: []series.Threshold{{Op: ">", Value: 90}}}
	if _, err := Render(c, Options{}); err != nil {
		t.Fatal(err)
	}
}
