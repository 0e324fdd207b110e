package render

import (
	"image/color"
	"testing"
)

func TestParseColor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]color.NRGBA{
		"red":                   {0xF2, 0x49, 0x5C, 255},
		"#73BF69":               {0x73, 0xBF, 0x69, 255},
		"#fff":                  {255, 255, 255, 255},
		"rgba(10, 20, 30, 0.5)": {10, 20, 30, 128},
		"rgb(1,2,3)":            {1, 2, 3, 255},
	} {
		if got, err := ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "#12", "rgb(1,2)", "mauve-ish"} {
		if _, err := ParseColor(in); err == nil {
			t.Errorf("ParseColor(%q) accepted", in)
		}
	}
}
