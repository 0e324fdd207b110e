package render

import (
	"bytes"
	"image/color"
	"testing"
	"time"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/alertchart/alertchart/pkg/render/fonts"
	"github.com/alertchart/alertchart/pkg/series"
)

func TestCJKTitleIsDrawnWithGlyphs(t *testing.T) {
	t.Parallel()
	title := "主机CPU使用率过高（最近10分钟）告警恢复"
	chain, err := fonts.Medium()
	if err != nil {
		t.Fatal(err)
	}
	cv := newCanvas(10, 10)
	notdef := glyphMask(t, cv, chain, 0, true)
	for _, r := range title {
		f, idx, ok := chain.Lookup(&cv.buf, r)
		if !ok || idx == 0 {
			t.Errorf("no glyph for %q (U+%04X) in the font chain", r, r)
			continue
		}
		if r > 0x2E80 && f == chain.Fonts[0].SFNT {
			t.Errorf("%q drawn by the Latin font", r)
		}
		if r > 0x2E80 && bytes.Equal(glyphMask(t, cv, chain, r, false), notdef) {
			t.Errorf("%q renders like the .notdef box (tofu)", r)
		}
	}
	// The embedded subset alone covers GB2312 hanzi, whatever the host has.
	sub := chain.Fonts[1]
	missing := 0
	for hi := 0xB0; hi <= 0xF7; hi++ { // GB2312 level 1 and 2 hanzi
		for lo := 0xA1; lo <= 0xFE; lo++ {
			s, err := simplifiedchinese.GBK.NewDecoder().Bytes([]byte{byte(hi), byte(lo)})
			r := []rune(string(s))
			if err != nil || len(r) != 1 || r[0] == 0xFFFD || (hi == 0xD7 && lo > 0xF9) {
				continue // unassigned code points
			}
			if g, err := sub.SFNT.GlyphIndex(&cv.buf, r[0]); err != nil || g == 0 {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("embedded CJK subset lacks %d GB2312 hanzi", missing)
	}
	var buf = &cv.buf
	for _, r := range "统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队" {
		if g, err := sub.SFNT.GlyphIndex(buf, r); err != nil || g == 0 {
			t.Errorf("embedded CJK subset lacks %q", r)
		}
	}
	// And the title region of a rendered chart has ink.
	c := &Chart{Title: title, Series: []series.Series{{Name: "x", Points: flat(10, 1, time.Minute)}}}
	r, img := drawChart(t, c, Options{})
	bg := r.th.bg
	ink := 0
	for y := 0; y < int(r.px(30)); y++ {
		for x := 0; x < r.w/2; x++ {
			p := img.RGBAAt(x, y)
			if absDiff(p.R, bg.R)+absDiff(p.G, bg.G)+absDiff(p.B, bg.B) > 120 {
				ink++
			}
		}
	}
	if ink < 800 {
		t.Errorf("title region has only %d inked pixels", ink)
	}
}

// glyphMask renders one rune (or the .notdef glyph) into a small image.
func glyphMask(t *testing.T, cv *canvas, chain *fonts.Chain, r rune, notdef bool) []byte {
	t.Helper()
	c := newCanvas(40, 40)
	c.uni.C = color.NRGBA{255, 255, 255, 255}
	f, idx := chain.Fonts[1].SFNT, sfnt.GlyphIndex(0)
	if !notdef {
		f, idx, _ = chain.Lookup(&c.buf, r)
	}
	c.glyph(f, idx, newFace(chain, 24, &c.buf).ppem, 4, 30)
	return c.img.Pix
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
