package render

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/vector"
)

// canvas is an RGBA image with the few drawing primitives a panel needs.
// Coordinates are device pixels (already multiplied by the pixel ratio).
type canvas struct {
	img     *image.RGBA
	rast    vector.Rasterizer
	buf     sfnt.Buffer
	uni     image.Uniform
	mask    image.Alpha
	maskBuf []byte
	segs    [][2]pt
	poly    []pt
	pix     []byte // backing store of img, kept across renders
}

// canvasPool recycles canvases between renders: the image (8 MB at
// 2000×1000), the rasteriser's coverage buffer and the mask. Allocating them
// per chart made the garbage collector the renderer's biggest cost.
var canvasPool sync.Pool

func newCanvas(w, h int) *canvas {
	n := 4 * w * h
	c, _ := canvasPool.Get().(*canvas)
	if c == nil {
		c = &canvas{}
	}
	if cap(c.pix) < n {
		c.pix = make([]byte, n)
	}
	c.img = &image.RGBA{Pix: c.pix[:n], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	return c
}

// release returns the canvas to the pool; c must not be used after.
func (c *canvas) release() {
	c.img = nil
	canvasPool.Put(c)
}

// clear fills the whole image with an opaque colour.
func (c *canvas) clear(col color.NRGBA) {
	p := c.img.Pix
	if len(p) < 4 {
		return
	}
	p[0], p[1], p[2], p[3] = col.R, col.G, col.B, 255
	for n := 4; n < len(p); n *= 2 {
		copy(p[n:], p[:n])
	}
}

// fillRect blends col over the pixels of r (clipped to the image).
func (c *canvas) fillRect(r image.Rectangle, col color.NRGBA) {
	r = r.Intersect(c.img.Rect)
	if r.Empty() || col.A == 0 {
		return
	}
	a := uint32(col.A)
	sr, sg, sb := uint32(col.R)*a, uint32(col.G)*a, uint32(col.B)*a
	ia := 255 - a
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := c.img.PixOffset(r.Min.X, y)
		row := c.img.Pix[i : i+4*r.Dx() : i+4*r.Dx()]
		if a == 255 {
			for x := 0; x < len(row); x += 4 {
				row[x], row[x+1], row[x+2], row[x+3] = col.R, col.G, col.B, 255
			}
			continue
		}
		for x := 0; x < len(row); x += 4 {
			row[x] = uint8((sr + uint32(row[x])*ia + 127) / 255)
			row[x+1] = uint8((sg + uint32(row[x+1])*ia + 127) / 255)
			row[x+2] = uint8((sb + uint32(row[x+2])*ia + 127) / 255)
		}
	}
}

// hline draws a crisp horizontal line of width lw centred on y from x0 to x1,
// dashed when dash > 0 (dash on, gap off).
func (c *canvas) hline(x0, x1, y, lw float64, col color.NRGBA, dash, gap float64) {
	t := math.Max(1, math.Round(lw))
	top := int(math.Round(y - t/2))
	if dash <= 0 {
		c.fillRect(image.Rect(int(math.Round(x0)), top, int(math.Round(x1)), top+int(t)), col)
		return
	}
	for x := x0; x < x1; x += dash + gap {
		e := math.Min(x+dash, x1)
		c.fillRect(image.Rect(int(math.Round(x)), top, int(math.Round(e)), top+int(t)), col)
	}
}

// vline is hline's vertical twin.
func (c *canvas) vline(x, y0, y1, lw float64, col color.NRGBA, dash, gap float64) {
	t := math.Max(1, math.Round(lw))
	left := int(math.Round(x - t/2))
	if dash <= 0 {
		c.fillRect(image.Rect(left, int(math.Round(y0)), left+int(t), int(math.Round(y1))), col)
		return
	}
	for y := y0; y < y1; y += dash + gap {
		e := math.Min(y+dash, y1)
		c.fillRect(image.Rect(left, int(math.Round(y)), left+int(t), int(math.Round(e))), col)
	}
}

type pt struct{ x, y float64 }

// strokeChunk is how many segments share one rasteriser pass. The
// rasteriser's cost is its area, so short chunks keep the boxes tight around
// a wiggly line instead of spanning the whole plot.
const strokeChunk = 16

// polyline strokes an anti-aliased polyline of width lw, clipped to clip.
// Every segment becomes a quad (and, for thick lines, every joint a small
// polygon), all with the same winding, so overlaps merge instead of
// cancelling (x/image/vector sums coverage and clamps it at 1). Segments are
// clipped first, so far-away samples cannot stretch the rasteriser's work.
func (c *canvas) polyline(p []pt, lw float64, col color.NRGBA, clip image.Rectangle) {
	if len(p) == 0 {
		return
	}
	hw := lw / 2
	if len(p) == 1 {
		return // a lone sample has no line; the caller draws it as a point
	}
	round := lw >= 2.5
	m := hw + 2
	x0, y0, x1, y1 := float64(clip.Min.X)-m, float64(clip.Min.Y)-m, float64(clip.Max.X)+m, float64(clip.Max.Y)+m
	segs := c.segs[:0]
	flush := func() {
		if len(segs) == 0 {
			return
		}
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, s := range segs {
			minX, maxX = math.Min(minX, math.Min(s[0].x, s[1].x)), math.Max(maxX, math.Max(s[0].x, s[1].x))
			minY, maxY = math.Min(minY, math.Min(s[0].y, s[1].y)), math.Max(maxY, math.Max(s[0].y, s[1].y))
		}
		pad := hw + 1.5
		c.polygonsIn(clip, col, func(ox, oy float64) {
			for i, s := range segs {
				c.segment(s[0].x-ox, s[0].y-oy, s[1].x-ox, s[1].y-oy, hw, !round)
				if round && i > 0 {
					c.dot(s[0].x-ox, s[0].y-oy, hw)
				}
			}
		}, minX-pad, minY-pad, maxX+pad, maxY+pad)
		segs = segs[:0]
	}
	for i := 0; i+1 < len(p); i++ {
		a, b, ok := clipSegment(p[i], p[i+1], x0, y0, x1, y1)
		if !ok {
			flush()
			continue
		}
		segs = append(segs, [2]pt{a, b})
		if len(segs) == strokeChunk {
			flush()
		}
	}
	flush()
	c.segs = segs
}

// clipSegment clips a–b to the rectangle (Liang–Barsky).
func clipSegment(a, b pt, x0, y0, x1, y1 float64) (pt, pt, bool) {
	t0, t1 := 0.0, 1.0
	dx, dy := b.x-a.x, b.y-a.y
	for _, e := range [4][2]float64{{-dx, a.x - x0}, {dx, x1 - a.x}, {-dy, a.y - y0}, {dy, y1 - a.y}} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return a, b, false
			}
			continue
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return a, b, false
			}
			t0 = math.Max(t0, t)
		} else {
			if t < t0 {
				return a, b, false
			}
			t1 = math.Min(t1, t)
		}
	}
	if t0 > 0 || t1 < 1 {
		a, b = pt{a.x + t0*dx, a.y + t0*dy}, pt{a.x + t1*dx, a.y + t1*dy}
	}
	return a, b, true
}

// clipPolygon clips a closed polygon to the rectangle (Sutherland–Hodgman).
func clipPolygon(poly []pt, x0, y0, x1, y1 float64, tmp []pt) []pt {
	type edge struct {
		inside func(pt) bool
		cross  func(a, b pt) pt
	}
	lerpX := func(a, b pt, x float64) pt { return pt{x, a.y + (b.y-a.y)*(x-a.x)/(b.x-a.x)} }
	lerpY := func(a, b pt, y float64) pt { return pt{a.x + (b.x-a.x)*(y-a.y)/(b.y-a.y), y} }
	edges := [4]edge{
		{func(q pt) bool { return q.x >= x0 }, func(a, b pt) pt { return lerpX(a, b, x0) }},
		{func(q pt) bool { return q.x <= x1 }, func(a, b pt) pt { return lerpX(a, b, x1) }},
		{func(q pt) bool { return q.y >= y0 }, func(a, b pt) pt { return lerpY(a, b, y0) }},
		{func(q pt) bool { return q.y <= y1 }, func(a, b pt) pt { return lerpY(a, b, y1) }},
	}
	in := poly
	out := tmp[:0]
	for _, e := range edges {
		out = out[:0]
		for i, cur := range in {
			prev := in[(i+len(in)-1)%len(in)]
			ci, pi := e.inside(cur), e.inside(prev)
			if ci {
				if !pi {
					out = append(out, e.cross(prev, cur))
				}
				out = append(out, cur)
			} else if pi {
				out = append(out, e.cross(prev, cur))
			}
		}
		if len(out) == 0 {
			return nil
		}
		in, out = out, in[:0:0]
		if cap(out) == 0 {
			out = make([]pt, 0, len(in)+4)
		}
	}
	return in
}

// polygonsIn resets the rasteriser to the box (x0,y0)-(x1,y1) ∩ clip, lets
// add emit paths relative to the box origin, and blends the result.
func (c *canvas) polygonsIn(clip image.Rectangle, col color.NRGBA, add func(ox, oy float64), x0, y0, x1, y1 float64) {
	r := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(clip).Intersect(c.img.Rect)
	if r.Empty() {
		return
	}
	c.rast.Reset(r.Dx(), r.Dy())
	add(float64(r.Min.X), float64(r.Min.Y))
	c.blendMask(r, col)
}

// blendMask rasterises the current paths into an alpha mask and blends col
// through it. The rasteriser's own RGBA path blends every pixel of the box
// with four divisions each; most pixels around a thin line have zero
// coverage, so skipping them here is several times faster.
func (c *canvas) blendMask(r image.Rectangle, col color.NRGBA) {
	w, h := r.Dx(), r.Dy()
	if cap(c.maskBuf) < w*h {
		c.maskBuf = make([]byte, w*h*2)
	}
	c.mask = image.Alpha{Pix: c.maskBuf[:w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}
	c.rast.DrawOp = draw.Src
	c.rast.Draw(&c.mask, c.mask.Rect, image.Opaque, image.Point{})
	ca := uint32(col.A)
	cr, cg, cb := uint32(col.R), uint32(col.G), uint32(col.B)
	for y := 0; y < h; y++ {
		m := c.mask.Pix[y*w : y*w+w]
		i0 := c.img.PixOffset(r.Min.X, r.Min.Y+y)
		row := c.img.Pix[i0 : i0+4*w : i0+4*w]
		for x, mv := range m {
			if mv == 0 {
				continue
			}
			a := uint32(mv) * ca // 0..255*255
			i := 4 * x
			if a == 255*255 {
				row[i], row[i+1], row[i+2], row[i+3] = col.R, col.G, col.B, 255
				continue
			}
			ia := 255*255 - a
			row[i] = uint8((cr*a + uint32(row[i])*ia + 32512) / 65025)
			row[i+1] = uint8((cg*a + uint32(row[i+1])*ia + 32512) / 65025)
			row[i+2] = uint8((cb*a + uint32(row[i+2])*ia + 32512) / 65025)
			// The canvas is opaque (cleared to the panel colour), so alpha stays 255.
		}
	}
}

// segment adds the quad of one stroke segment; ext extends it by hw at both
// ends (square caps), which closes the joints of thin lines.
func (c *canvas) segment(ax, ay, bx, by, hw float64, ext bool) {
	dx, dy := bx-ax, by-ay
	l := math.Hypot(dx, dy)
	if l < 1e-9 {
		c.dot(ax, ay, hw)
		return
	}
	ux, uy := dx/l, dy/l
	nx, ny := -uy*hw, ux*hw
	if ext {
		ax, ay = ax-ux*hw, ay-uy*hw
		bx, by = bx+ux*hw, by+uy*hw
	}
	c.rast.MoveTo(float32(ax+nx), float32(ay+ny))
	c.rast.LineTo(float32(bx+nx), float32(by+ny))
	c.rast.LineTo(float32(bx-nx), float32(by-ny))
	c.rast.LineTo(float32(ax-nx), float32(ay-ny))
	c.rast.ClosePath()
}

// dot adds an octagon of radius r with the same winding as segment's quads.
func (c *canvas) dot(x, y, r float64) {
	n := 8
	if r > 2 {
		n = 16
	}
	for i := 0; i <= n; i++ {
		a := -2 * math.Pi * float64(i) / float64(n)
		px, py := float32(x+r*math.Cos(a)), float32(y+r*math.Sin(a))
		if i == 0 {
			c.rast.MoveTo(px, py)
		} else {
			c.rast.LineTo(px, py)
		}
	}
	c.rast.ClosePath()
}

// fillUnder fills the area between a polyline and the horizontal line y=base,
// clipped to clip.
func (c *canvas) fillUnder(p []pt, base float64, col color.NRGBA, clip image.Rectangle) {
	if len(p) < 2 || col.A == 0 {
		return
	}
	poly := append(c.poly[:0], pt{p[0].x, base})
	poly = append(poly, p...)
	poly = append(poly, pt{p[len(p)-1].x, base})
	c.poly = poly
	poly = clipPolygon(poly, float64(clip.Min.X)-1, float64(clip.Min.Y)-1, float64(clip.Max.X)+1, float64(clip.Max.Y)+1, make([]pt, 0, len(poly)+8))
	if len(poly) < 3 {
		return
	}
	minX, maxX, minY, maxY := poly[0].x, poly[0].x, poly[0].y, poly[0].y
	for _, q := range poly {
		minX, maxX = math.Min(minX, q.x), math.Max(maxX, q.x)
		minY, maxY = math.Min(minY, q.y), math.Max(maxY, q.y)
	}
	c.polygonsIn(clip, col, func(ox, oy float64) {
		c.rast.MoveTo(float32(poly[0].x-ox), float32(poly[0].y-oy))
		for _, q := range poly[1:] {
			c.rast.LineTo(float32(q.x-ox), float32(q.y-oy))
		}
		c.rast.ClosePath()
	}, minX, minY, maxX, maxY)
}

// triangle fills a triangle.
func (c *canvas) triangle(a, b, d pt, col color.NRGBA) {
	minX, maxX := math.Min(a.x, math.Min(b.x, d.x)), math.Max(a.x, math.Max(b.x, d.x))
	minY, maxY := math.Min(a.y, math.Min(b.y, d.y)), math.Max(a.y, math.Max(b.y, d.y))
	c.polygonsIn(c.img.Rect, col, func(ox, oy float64) {
		c.rast.MoveTo(float32(a.x-ox), float32(a.y-oy))
		c.rast.LineTo(float32(b.x-ox), float32(b.y-oy))
		c.rast.LineTo(float32(d.x-ox), float32(d.y-oy))
		c.rast.ClosePath()
	}, minX, minY, maxX, maxY)
}

// roundRect fills a rectangle with rounded corners (legend swatches).
func (c *canvas) roundRect(x0, y0, x1, y1, r float64, col color.NRGBA) {
	r = math.Min(r, math.Min(x1-x0, y1-y0)/2)
	c.polygonsIn(c.img.Rect, col, func(ox, oy float64) {
		// Corners clockwise on screen: top-right, bottom-right, bottom-left, top-left.
		centres := [4]pt{{x1 - r - ox, y0 + r - oy}, {x1 - r - ox, y1 - r - oy}, {x0 + r - ox, y1 - r - oy}, {x0 + r - ox, y0 + r - oy}}
		const n = 4
		for k, ctr := range centres {
			a0 := -math.Pi/2 + float64(k)*math.Pi/2
			for i := 0; i <= n; i++ {
				a := a0 + math.Pi/2*float64(i)/n
				px, py := float32(ctr.x+r*math.Cos(a)), float32(ctr.y+r*math.Sin(a))
				if k == 0 && i == 0 {
					c.rast.MoveTo(px, py)
				} else {
					c.rast.LineTo(px, py)
				}
			}
		}
		c.rast.ClosePath()
	}, x0, y0, x1, y1)
}
