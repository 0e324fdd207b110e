package render

import (
	"bytes"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestFormatsAndSizeLimit(t *testing.T) {
	t.Parallel()
	c := &Chart{Title: "t", Series: []series.Series{{Name: "x", Points: wave(240, 50, 30, 0)}}}
	img, err := Render(c, Options{Format: "jpeg", JPEGQuality: 70})
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/jpeg" {
		t.Fatalf("content type %s", img.ContentType)
	}
	if _, err := jpeg.Decode(bytes.NewReader(img.Bytes)); err != nil {
		t.Fatal(err)
	}
	img, err = Render(c, Options{PixelRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img.Bytes))
	if err != nil || cfg.Width != 2000 || cfg.Height != 1000 || img.Width != 2000 {
		t.Fatalf("2× PNG: %+v %v", cfg, err)
	}
	// A PNG over MaxBytes falls back to JPEG.
	img, err = Render(c, Options{MaxBytes: 40_000})
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/jpeg" || len(img.Bytes) > 40_000 {
		t.Errorf("fallback: %s, %d bytes", img.ContentType, len(img.Bytes))
	}
}
