package render_test

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/font/sfnt"

	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/render/fonts"
	"github.com/alertchart/alertchart/pkg/render/internal/samples"
	"github.com/alertchart/alertchart/pkg/series"
)

var update = flag.Bool("update", false, "rewrite the reference PNGs in testdata/ from the current renderer")

// TestReferenceImages renders every sample chart and compares it with the
// checked-in reference PNG. The comparison is perceptual, not bytewise:
// anti-aliasing and float rounding may differ slightly between CPUs, so a
// chart passes when almost no pixel differs visibly. Regenerate after an
// intended change with:
//
//	go test ./pkg/render -run TestReferenceImages -update
//
// and look at the files before committing them.
func TestReferenceImages(t *testing.T) {
	t.Parallel()
	for _, c := range samples.All() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel() // each sample renders alone; together they also race the renderer's pools
			img, err := render.Render(c.Chart, c.Options)
			if err != nil {
				t.Fatal(err)
			}
			if len(img.Bytes) > 2_000_000 {
				t.Errorf("%d bytes: over the 2 MB chat image limit", len(img.Bytes))
			}
			path := filepath.Join("testdata", c.Name+".png")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, img.Bytes, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			ref, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if bytes.Equal(img.Bytes, ref) {
				// The same bytes as the reference: the same picture, so
				// similar holds without comparing it pixel by pixel. Still
				// check that it decodes, once (decoding both and comparing
				// them is most of this test's time under -race).
				if _, err := png.Decode(bytes.NewReader(ref)); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := png.Decode(bytes.NewReader(ref))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			got, err := png.Decode(bytes.NewReader(img.Bytes))
			if err != nil {
				t.Fatal(err)
			}
			if err := similar(got, want); err != nil {
				out := filepath.Join(t.TempDir(), c.Name+".png")
				_ = os.WriteFile(out, img.Bytes, 0o644)
				t.Errorf("%s differs from %s: %v (got written to %s)", c.Name, path, err, out)
			}
		})
	}
}

// similar accepts images of equal size that look the same: no 8×8 tile has
// 4 or more pixels that differ visibly (more than 48/255 in a channel), so a
// missing 1-px line or a changed label fails while anti-aliasing noise
// passes, and the mean absolute channel difference stays under 1.5.
func similar(a, b image.Image) error {
	if a.Bounds() != b.Bounds() {
		return fmt.Errorf("size %v, want %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	const tile = 8
	tw, th := (r.Dx()+tile-1)/tile, (r.Dy()+tile-1)/tile
	bad := make([]int, tw*th)
	var sum float64
	// pixel is At(x, y).RGBA() in 8 bits. The renderer's PNGs decode as
	// *image.RGBA, whose bytes are those values: reading them directly keeps
	// the comparison the same and makes it ~20× cheaper under -race.
	pixel := func(img image.Image) func(x, y int) (r, g, b uint32) {
		if m, ok := img.(*image.RGBA); ok {
			return func(x, y int) (r, g, b uint32) {
				p := m.Pix[m.PixOffset(x, y):]
				return uint32(p[0]), uint32(p[1]), uint32(p[2])
			}
		}
		return func(x, y int) (r, g, b uint32) {
			r, g, b, _ = img.At(x, y).RGBA()
			return r >> 8, g >> 8, b >> 8
		}
	}
	pa, pb := pixel(a), pixel(b)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab := pa(x, y)
			br, bg, bb := pb(x, y)
			d0, d1, d2 := diff(ar, br), diff(ag, bg), diff(ab, bb)
			if max(d0, d1, d2) > 48 {
				bad[(y-r.Min.Y)/tile*tw+(x-r.Min.X)/tile]++
			}
			sum += float64(d0+d1+d2) / 3
		}
	}
	worst, tiles := 0, 0
	for _, n := range bad {
		worst = max(worst, n)
		if n >= 4 {
			tiles++
		}
	}
	if tiles > 0 {
		return fmt.Errorf("%d tiles of %d×%d px differ visibly (worst: %d pixels)", tiles, tile, tile, worst)
	}
	if mean := sum / float64(r.Dx()*r.Dy()); mean > 1.5 {
		return fmt.Errorf("mean channel difference %.2f", mean)
	}
	return nil
}

// diff is the absolute difference of two 8-bit channel values.
func diff(a, b uint32) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestSimilarRejectsDifferentCharts guards the comparison itself: two
// different sample charts must not pass as similar.
func TestSimilarRejectsDifferentCharts(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	t.Parallel()
	all := samples.All()
	a, err := render.Render(all[0].Chart, all[0].Options)
	if err != nil {
		t.Fatal(err)
	}
	c := *all[0].Chart
	c.Thresholds = nil // one dashed line less
	b, err := render.Render(&c, all[0].Options)
	if err != nil {
		t.Fatal(err)
	}
	ia, _ := png.Decode(bytes.NewReader(a.Bytes))
	ib, _ := png.Decode(bytes.NewReader(b.Bytes))
	if similar(ia, ia) != nil {
		t.Error("an image is not similar to itself")
	}
	if similar(ia, ib) == nil {
		t.Error("removing the threshold line went unnoticed")
	}
}

// TestSamplesNeedOnlyEmbeddedFonts keeps the reference images independent of
// the host: every character the samples draw is in the embedded fonts, so CI
// machines without a CJK font render the same pictures.
func TestSamplesNeedOnlyEmbeddedFonts(t *testing.T) {
	t.Parallel()
	chain, err := fonts.Regular()
	if err != nil {
		t.Fatal(err)
	}
	embedded := chain.Fonts[:2]
	var buf sfnt.Buffer
	check := func(s string) {
		for _, r := range s {
			found := false
			for _, f := range embedded {
				if g, err := f.SFNT.GlyphIndex(&buf, r); err == nil && g != 0 {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%q (in %q) is not in the embedded fonts", r, s)
			}
		}
	}
	for _, c := range samples.All() {
		check(c.Chart.Title + c.Chart.NoDataReason)
		for _, s := range c.Chart.Series {
			check(series.LabelString(s.Labels))
		}
	}
	check("告警开始 告警恢复 无数据 … 还有 个序列 ◀ – Max Min Last * Mean 0123456789:/.%µ")
}
