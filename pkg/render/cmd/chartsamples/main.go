// Command chartsamples writes the renderer's sample charts as PNG files so a
// developer can look at them:
//
//	go run ./pkg/render/cmd/chartsamples [-out dir]
//
// Without -out it writes to a new temporary directory and prints its path.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/render/internal/samples"
)

func main() {
	out := flag.String("out", "", "directory for the PNG files (default: a new temp dir)")
	flag.Parse()
	dir := *out
	if dir == "" {
		d, err := os.MkdirTemp("", "alertchart-samples-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, c := range samples.All() {
		img, err := render.Render(c.Chart, c.Options)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.Name, err)
			os.Exit(1)
		}
		ext := ".png"
		if img.ContentType == "image/jpeg" {
			ext = ".jpg"
		}
		p := filepath.Join(dir, c.Name+ext)
		if err := os.WriteFile(p, img.Bytes, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s\t%dx%d\t%d bytes\n", p, img.Width, img.Height, len(img.Bytes))
	}
}
