package packaging

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxSourceLines bounds a Go source file under pkg/. A file that holds one
// concern (the text worker, the threshold rewrite, the legend) fits well
// within it; a file past it has usually gathered a second concern that a
// maintainer then has to read around. Tests are not bounded: a table of
// cases is long without being hard to follow.
const maxSourceLines = 450

// TestSourceFilesHoldOneConcern keeps the backend's files the size they were
// split to: a file over maxSourceLines fails with its length, to be split
// by concern into files named for what they hold.
func TestSourceFilesHoldOneConcern(t *testing.T) {
	r := root(t)
	n := 0
	err := filepath.WalkDir(filepath.Join(r, "pkg"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if lines := bytes.Count(b, []byte("\n")); lines > maxSourceLines {
			rel, _ := filepath.Rel(r, p)
			t.Errorf("%s has %d lines, over %d: split it by concern", rel, lines, maxSourceLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("read %d Go files under pkg/, expected the backend's 100+", n)
	}
}
