package render

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/alertchart/alertchart/pkg/render/fonts"
)

// Text on the canvas: a font chain at one pixel size, and measuring, drawing
// and shortening a line with it. Glyph outlines go through the same
// rasteriser and mask blend as the paths.

// face is a font chain at one pixel size.
type face struct {
	chain *fonts.Chain
	size  float64 // device pixels per em
	ppem  fixed.Int26_6
	// ascent and descent of the first (Latin) font, for vertical placement.
	ascent, descent float64
}

func newFace(chain *fonts.Chain, size float64, buf *sfnt.Buffer) face {
	f := face{chain: chain, size: size, ppem: fixed.Int26_6(math.Round(size * 64))}
	if m, err := chain.Fonts[0].SFNT.Metrics(buf, f.ppem, font.HintingNone); err == nil {
		f.ascent, f.descent = float64(m.Ascent)/64, float64(m.Descent)/64
	} else {
		f.ascent, f.descent = size*0.97, size*0.24
	}
	return f
}

// capMiddle is the offset from the baseline to the middle of digits and
// capitals, used to centre a text line on a y coordinate.
func (f face) capMiddle() float64 { return f.size * 0.364 } // Inter's cap height is 0.727 em

func normaliseRune(r rune) rune {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
		return ' '
	}
	return r
}

// measure returns the advance width of s in device pixels.
func (c *canvas) measure(f face, s string) float64 {
	var w fixed.Int26_6
	var prevFont *sfnt.Font
	var prev sfnt.GlyphIndex
	for _, r := range s {
		r = normaliseRune(r)
		ft, idx, _ := f.chain.Lookup(&c.buf, r)
		if ft == prevFont && prev != 0 {
			if k, err := ft.Kern(&c.buf, prev, idx, f.ppem, font.HintingNone); err == nil {
				w += k
			}
		}
		if adv, err := ft.GlyphAdvance(&c.buf, idx, f.ppem, font.HintingNone); err == nil {
			w += adv
		}
		prevFont, prev = ft, idx
	}
	return float64(w) / 64
}

// text draws s with its baseline at y starting at x and returns the advance.
func (c *canvas) text(f face, x, y float64, col color.NRGBA, s string) float64 {
	x0 := x
	var prevFont *sfnt.Font
	var prev sfnt.GlyphIndex
	c.uni.C = col
	for _, r := range s {
		r = normaliseRune(r)
		ft, idx, _ := f.chain.Lookup(&c.buf, r)
		if ft == prevFont && prev != 0 {
			if k, err := ft.Kern(&c.buf, prev, idx, f.ppem, font.HintingNone); err == nil {
				x += float64(k) / 64
			}
		}
		if r != ' ' {
			c.glyph(ft, idx, f.ppem, x, y)
		}
		if adv, err := ft.GlyphAdvance(&c.buf, idx, f.ppem, font.HintingNone); err == nil {
			x += float64(adv) / 64
		}
		prevFont, prev = ft, idx
	}
	return x - x0
}

// glyph rasterises one glyph with its origin at (x, y) using c.uni's colour.
func (c *canvas) glyph(ft *sfnt.Font, idx sfnt.GlyphIndex, ppem fixed.Int26_6, x, y float64) {
	segs, err := ft.LoadGlyph(&c.buf, idx, ppem, nil)
	if err != nil || len(segs) == 0 {
		return
	}
	b := segs.Bounds()
	r := image.Rect(
		int(math.Floor(x+float64(b.Min.X)/64)), int(math.Floor(y+float64(b.Min.Y)/64)),
		int(math.Ceil(x+float64(b.Max.X)/64)), int(math.Ceil(y+float64(b.Max.Y)/64)),
	)
	if !r.In(c.img.Rect) {
		if r = r.Intersect(c.img.Rect); r.Empty() {
			return
		}
	}
	ox, oy := float32(x-float64(r.Min.X)), float32(y-float64(r.Min.Y))
	col := c.uni.C.(color.NRGBA)
	c.rast.Reset(r.Dx(), r.Dy())
	for _, s := range segs {
		a := s.Args
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			c.rast.ClosePath()
			c.rast.MoveTo(ox+f26(a[0].X), oy+f26(a[0].Y))
		case sfnt.SegmentOpLineTo:
			c.rast.LineTo(ox+f26(a[0].X), oy+f26(a[0].Y))
		case sfnt.SegmentOpQuadTo:
			c.rast.QuadTo(ox+f26(a[0].X), oy+f26(a[0].Y), ox+f26(a[1].X), oy+f26(a[1].Y))
		case sfnt.SegmentOpCubeTo:
			c.rast.CubeTo(ox+f26(a[0].X), oy+f26(a[0].Y), ox+f26(a[1].X), oy+f26(a[1].Y), ox+f26(a[2].X), oy+f26(a[2].Y))
		}
	}
	c.rast.ClosePath()
	c.blendMask(r, col)
}

func f26(v fixed.Int26_6) float32 { return float32(v) / 64 }

// ellipsize shortens s with "…" so that it fits in maxW pixels.
func (c *canvas) ellipsize(f face, s string, maxW float64) string {
	// Nothing wider than the image fits: cut absurdly long input first so
	// measuring stays cheap.
	const maxRunes = 400
	rs := []rune(s)
	if len(rs) > maxRunes {
		rs = rs[:maxRunes]
	} else if c.measure(f, s) <= maxW {
		return s
	}
	lo, hi := 0, len(rs)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if c.measure(f, string(rs[:mid])+"…") <= maxW {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return string(rs[:lo]) + "…"
}
