package render

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestNoDataImage(t *testing.T) {
	t.Parallel()
	for _, c := range []*Chart{
		{Title: "磁盘空间不足", NoDataReason: "query returned no series"},
		{Series: []series.Series{{Name: "all NaN", Points: []series.Point{{T: 1, V: math.NaN()}}}}},
	} {
		img, err := Render(c, Options{Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if img.ContentType != "image/png" || img.Width != 1000 || img.Height != 500 {
			t.Errorf("no-data image %s %dx%d", img.ContentType, img.Width, img.Height)
		}
		dec, err := png.Decode(bytes.NewReader(img.Bytes))
		if err != nil {
			t.Fatal(err)
		}
		// The message is in the middle of the image.
		ink := 0
		for y := 230; y < 300; y++ {
			for x := 400; x < 600; x++ {
				r, _, _, _ := dec.At(x, y).RGBA()
				if r>>8 > 0x60 {
					ink++
				}
			}
		}
		if ink < 50 {
			t.Errorf("no-data message missing (%d inked pixels)", ink)
		}
	}
}
