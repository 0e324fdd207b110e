package packaging

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoPath is a path into this repository written in a comment or a
// document: it starts with one of the top-level directories and ends in a
// file name.
var repoPath = regexp.MustCompile(`(^|[^\w./-])((?:pkg|src|test|docs|scripts|cmd|provisioning|examples|demo|notes|shared|\.ci)/[\w./-]*\w\.(?:go|ts|tsx|md|json|yaml|yml|sh|tmpl|sql|mjs|js|png|txt))\b`)

// upstream ends the text before a path that belongs to another project:
// "grafana/grafana pkg/expr/threshold.go", "Grafana's pkg/services/…". An
// owner/repo is a name without a file extension, so a repository path
// written just before another one does not excuse it.
var upstream = regexp.MustCompile(`(\b[A-Za-z][\w-]*/[\w-]+|Grafana's|grafana-plugin-sdk-go|grafana-openapi-client-go)\s+$`)

// TestReferencesNameFilesThatExist keeps comments and documents from citing
// files that were moved, renamed or never were (a reader following one
// finds nothing): every repository path in a Go, TypeScript, shell,
// Markdown or YAML file must exist, unless the text names the other
// project it belongs to just before it.
func TestReferencesNameFilesThatExist(t *testing.T) {
	r := root(t)
	skip := map[string]bool{"node_modules": true, "dist": true, ".cache": true, ".git": true, "bin": true, "coverage": true}
	exts := map[string]bool{".go": true, ".ts": true, ".tsx": true, ".sh": true, ".md": true, ".yaml": true, ".yml": true, ".mjs": true}
	checked := 0
	err := filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[d.Name()] || strings.HasPrefix(d.Name(), ".") && p != r && d.Name() != ".ci" {
				return filepath.SkipDir
			}
			return nil
		}
		if !exts[filepath.Ext(p)] && filepath.Base(p) != "run" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r, p)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range repoPath.FindAllStringSubmatchIndex(line, -1) {
				ref := line[m[4]:m[5]]
				if upstream.MatchString(line[:m[4]]) {
					continue
				}
				checked++
				if _, err := os.Stat(filepath.Join(r, filepath.FromSlash(ref))); err != nil {
					t.Errorf("%s:%d names %s, which does not exist", rel, i+1, ref)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d repository paths found; the scan is not reading the sources", checked)
	}
	t.Logf("%d repository paths checked", checked)
}
