package render_test

import (
	"testing"

	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/render/internal/samples"
)

// The targets: 10 series × 720 points, render + encode, ≤ 25 ms at
// 1000×500 and ≤ 80 ms at 2000×1000 (median), ≤ 30 MB allocated per chart.
// Run: go test ./pkg/render -run '^$' -bench . -benchmem -count 5

func benchRender(b *testing.B, c *render.Chart, o render.Options) {
	b.Helper()
	b.ReportAllocs()
	var size int
	cpu0 := processCPU()
	for b.Loop() {
		img, err := render.Render(c, o)
		if err != nil {
			b.Fatal(err)
		}
		size = len(img.Bytes)
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
	b.ReportMetric(float64(size)/1024, "KiB/img")
}

func BenchmarkRender1000x500(b *testing.B) {
	benchRender(b, samples.Bench(), render.Options{Location: samples.Shanghai})
}

// 2000×1000 device pixels as a 1000×500 panel at pixel ratio 2 (text and
// lines scale too, like the Grafana render API's scale=2).
func BenchmarkRender2000x1000Ratio2(b *testing.B) {
	benchRender(b, samples.Bench(), render.Options{Location: samples.Shanghai, PixelRatio: 2})
}

// 2000×1000 device pixels as a 2000×1000 panel at pixel ratio 1.
func BenchmarkRender2000x1000(b *testing.B) {
	benchRender(b, samples.Bench(), render.Options{Location: samples.Shanghai, Width: 2000, Height: 1000})
}

func BenchmarkRender1000x500Fill(b *testing.B) {
	c := *samples.Bench()
	c.Style.FillOpacity = 20
	benchRender(b, &c, render.Options{Location: samples.Shanghai})
}

func BenchmarkRender1000x500JPEG(b *testing.B) {
	benchRender(b, samples.Bench(), render.Options{Location: samples.Shanghai, Format: "jpeg"})
}

func BenchmarkRender2000x1000Ratio2Fill(b *testing.B) {
	c := *samples.Bench()
	c.Style.FillOpacity = 20
	benchRender(b, &c, render.Options{Location: samples.Shanghai, PixelRatio: 2})
}
