package render

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestOptionsAndInputValidation(t *testing.T) {
	t.Parallel()
	c := &Chart{Series: []series.Series{{Name: "x", Points: flat(10, 1, time.Minute)}}}
	for _, o := range []Options{
		{Width: 100}, {Height: 5000}, {PixelRatio: 9}, {Theme: "blue"}, {Format: "gif"}, {Language: "fr"},
		{JPEGQuality: 101}, {MaxLegendRows: -1}, {Width: 4000, Height: 3000, PixelRatio: 2},
	} {
		if _, err := Render(c, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := Render(nil, Options{}); err == nil {
		t.Error("nil chart accepted")
	}
	if _, err := Render(&Chart{Min: ptrF(5), Max: ptrF(1), Series: c.Series}, Options{}); err == nil {
		t.Error("min above max accepted")
	}
	if _, err := Render(&Chart{From: t0, To: t0.Add(-time.Hour)}, Options{}); err == nil {
		t.Error("reversed time range accepted")
	}
	if _, err := Render(&Chart{Thresholds: []series.Threshold{{Op: ">", Value: math.NaN()}}}, Options{}); err == nil {
		t.Error("NaN threshold accepted")
	}
	big := &Chart{Series: make([]series.Series, MaxSeries+1)}
	if _, err := Render(big, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many series: %v", err)
	}
}

func TestConcurrentRenders(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	t.Parallel()
	c := &Chart{Title: "并发 concurrent", Series: []series.Series{{Name: "x", Points: wave(240, 50, 30, 0)}}, Unit: "percent"}
	want, err := Render(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			o := Options{}
			if i%2 == 1 {
				o.PixelRatio = 2 // different buffer sizes through the pool
			}
			img, err := Render(c, o)
			if err == nil && i%2 == 0 && !bytes.Equal(img.Bytes, want.Bytes) {
				err = errors.New("concurrent render differs from a lone one")
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestFontsDescribesChain(t *testing.T) {
	t.Parallel()
	names, err := Fonts()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 || !strings.Contains(names[0], "Inter") || !strings.Contains(names[1], "Noto Sans CJK SC") {
		t.Errorf("font chain %v", names)
	}
	t.Logf("font chain: %v", names)
}
