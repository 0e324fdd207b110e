package render

import (
	"image/color"
	"math"

	"github.com/alertchart/alertchart/pkg/series"
)

func (r *resolved) seriesColor(i int, pts []series.Point) color.NRGBA {
	switch r.st.ColorMode {
	case "fixed", "shades":
		c, err := ParseColor(r.st.FixedColor)
		if err != nil || r.st.FixedColor == "" {
			c = paletteColor(0)
		}
		if r.st.ColorMode == "shades" && i > 0 {
			// Alternate lighter and darker shades of the fixed colour.
			f := 1 + 0.45*float64((i+1)/2)
			if i%2 == 0 {
				f = 1 / f
			}
			c = shade(c, f)
		}
		return c
	case "palette-classic-by-name":
		return paletteByName(legendName(r.Series[i], r.format))
	case "thresholds":
		return r.thresholdColor(calc("lastNotNull", pts))
	}
	return paletteColor(i)
}

// applyOverrides applies the template panel's field overrides whose matcher
// selects series i by its legend name.
func (r *resolved) applyOverrides(i int, p *plotted) {
	if len(r.st.Overrides) == 0 {
		return
	}
	name := legendName(r.Series[i], r.format)
	for _, o := range r.st.Overrides {
		if !o.matches(name, r.Series[i].Name) {
			continue
		}
		if o.Color != "" {
			if c, err := ParseColor(o.Color); err == nil {
				p.color = c
			}
		}
		if o.LineWidth != nil {
			p.lineWidth = *o.LineWidth
		}
		if o.FillOpacity != nil {
			p.fillOpacity = *o.FillOpacity
		}
		if o.Hidden {
			p.hidden = true
		}
	}
}

func shade(c color.NRGBA, f float64) color.NRGBA {
	s := func(v uint8) uint8 {
		if f >= 1 {
			return uint8(255 - (255-float64(v))/f)
		}
		return uint8(float64(v) * f)
	}
	return color.NRGBA{s(c.R), s(c.G), s(c.B), c.A}
}

// thresholdColor is the colour of the panel threshold step containing v.
func (r *resolved) thresholdColor(v float64) color.NRGBA {
	col := paletteColor(0)
	for _, s := range r.st.Thresholds {
		if s.Value == nil || (!math.IsNaN(v) && v >= *s.Value) {
			if c, err := ParseColor(s.Color); err == nil {
				col = c
			}
		}
	}
	return col
}
