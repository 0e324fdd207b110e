package render

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"strconv"
	"strings"
)

// theme holds Grafana's panel colours for one theme.
type theme struct {
	bg, text, textWeak, grid, border color.NRGBA
	threshold, alert, alertShade     color.NRGBA
	resolved                         color.NRGBA
}

var (
	darkTheme = theme{
		bg:         rgb(0x181B1F),
		text:       rgb(0xCCCCDC),
		textWeak:   rgba(0xCCCCDC, 0.65),
		grid:       rgba(0xF0FAFF, 0.09),
		border:     rgba(0xCCCCDC, 0.12),
		threshold:  rgba(0xF2495C, 0.85),
		alert:      rgb(0xFF9830),
		alertShade: rgba(0xF2495C, 0.07),
		resolved:   rgb(0x73BF69),
	}
	lightTheme = theme{
		bg:         rgb(0xFFFFFF),
		text:       rgb(0x24292E),
		textWeak:   rgba(0x24292E, 0.75),
		grid:       rgba(0x000A17, 0.09),
		border:     rgba(0x24292E, 0.12),
		threshold:  rgba(0xE02F44, 0.9),
		alert:      rgb(0xFF780A),
		alertShade: rgba(0xF2495C, 0.08),
		resolved:   rgb(0x56A64B),
	}
)

func rgb(v uint32) color.NRGBA {
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

func rgba(v uint32, a float64) color.NRGBA {
	c := rgb(v)
	c.A = uint8(a*255 + 0.5)
	return c
}

func withAlpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(float64(c.A)*a + 0.5)
	return c
}

// namedColors are Grafana's named visualisation colours.
var namedColors = map[string]uint32{
	"red": 0xF2495C, "dark-red": 0xC4162A, "semi-dark-red": 0xE02F44, "light-red": 0xFF7383, "super-light-red": 0xFFA6B0,
	"orange": 0xFF9830, "dark-orange": 0xFA6400, "semi-dark-orange": 0xFF780A, "light-orange": 0xFFB357, "super-light-orange": 0xFFCB7D,
	"yellow": 0xFADE2A, "dark-yellow": 0xE0B400, "semi-dark-yellow": 0xF2CC0C, "light-yellow": 0xFFEE52, "super-light-yellow": 0xFFF899,
	"green": 0x73BF69, "dark-green": 0x37872D, "semi-dark-green": 0x56A64B, "light-green": 0x96D98D, "super-light-green": 0xC8F2C2,
	"blue": 0x5794F2, "dark-blue": 0x1F60C4, "semi-dark-blue": 0x3274D9, "light-blue": 0x8AB8FF, "super-light-blue": 0xC0D8FF,
	"purple": 0xB877D9, "dark-purple": 0x8F3BB8, "semi-dark-purple": 0xA352CC, "light-purple": 0xCA95E5, "super-light-purple": 0xDEB6F2,
	"white": 0xFFFFFF, "black": 0x000000, "gray": 0x808080, "grey": 0x808080,
}

// classicPalette is Grafana's "palette-classic" order.
var classicPalette = []uint32{
	0x73BF69, 0xF2CC0C, 0x8AB8FF, 0xFF780A, 0xF2495C, 0x5794F2, 0xB877D9, 0x705DA0, 0x37872D, 0xFADE2A,
	0x447EBC, 0xC15C17, 0x890F02, 0x0A437C, 0x6D1F62, 0x584477, 0xB7DBAB, 0xF4D598, 0x70DBED, 0xF9BA8F,
	0xF29191, 0x82B5D8, 0xE5A8E2, 0xAEA2E0, 0x629E51, 0xE5AC0E, 0x64B0C8, 0xE0752D, 0xBF1B00, 0x0A50A1,
	0x962D82, 0x614D93, 0x9AC48A, 0xF2C96D, 0x65C5DB, 0xF9934E, 0xEA6460, 0x5195CE, 0xD683CE, 0x806EB7,
	0x3F6833, 0x967302, 0x2F575E, 0x99440A, 0x58140C, 0x052B51, 0x511749, 0x3F2B5B, 0xE0F9D7, 0xFCEACA,
	0xCFFAFF, 0xF9E2D2, 0xFCE2DE, 0xBADFF4, 0xF9D9F9, 0xDEDAF7,
}

func paletteColor(i int) color.NRGBA { return rgb(classicPalette[i%len(classicPalette)]) }

// paletteByName hashes a series name into the classic palette, so a series
// keeps its colour across charts (Grafana's palette-classic-by-name).
func paletteByName(name string) color.NRGBA {
	h := fnv.New32a()
	h.Write([]byte(name))
	return paletteColor(int(h.Sum32() % uint32(len(classicPalette))))
}

// ParseColor reads a Grafana colour: a named colour ("red", "semi-dark-blue"),
// "#rgb", "#rrggbb", "#rrggbbaa", "rgb(r, g, b)" or "rgba(r, g, b, a)".
func ParseColor(s string) (color.NRGBA, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if v, ok := namedColors[s]; ok {
		return rgb(v), nil
	}
	if s == "transparent" {
		return color.NRGBA{}, nil
	}
	if strings.HasPrefix(s, "#") {
		h := s[1:]
		if len(h) == 3 {
			h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
		}
		if len(h) != 6 && len(h) != 8 {
			return color.NRGBA{}, fmt.Errorf("colour %q: want #rgb, #rrggbb or #rrggbbaa", s)
		}
		v, err := strconv.ParseUint(h, 16, 32)
		if err != nil {
			return color.NRGBA{}, fmt.Errorf("colour %q: %w", s, err)
		}
		if len(h) == 6 {
			return rgb(uint32(v)), nil
		}
		return color.NRGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
	}
	if strings.HasPrefix(s, "rgb") {
		open, end := strings.IndexByte(s, '('), strings.IndexByte(s, ')')
		if open < 0 || end < open {
			return color.NRGBA{}, fmt.Errorf("colour %q: malformed rgb()", s)
		}
		parts := strings.Split(s[open+1:end], ",")
		if len(parts) != 3 && len(parts) != 4 {
			return color.NRGBA{}, fmt.Errorf("colour %q: want 3 or 4 components", s)
		}
		var c [4]float64
		c[3] = 1
		for i, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return color.NRGBA{}, fmt.Errorf("colour %q: %w", s, err)
			}
			c[i] = v
		}
		cl := func(v, max float64) float64 { return min(max, maxf(0, v)) }
		return color.NRGBA{uint8(cl(c[0], 255)), uint8(cl(c[1], 255)), uint8(cl(c[2], 255)), uint8(cl(c[3], 1)*255 + 0.5)}, nil
	}
	return color.NRGBA{}, fmt.Errorf("unknown colour %q", s)
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}
