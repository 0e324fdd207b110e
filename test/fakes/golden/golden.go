// Package golden compares request payloads captured by the platform fakes
// with files under testdata/*.golden.json. Run the tests with -update to
// rewrite the files after an intended change, then review the diff.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// JSON marshals v (indented, keys sorted for maps) and compares it with
// testdata/<name>.golden.json.
func JSON(t testing.TB, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run the test with -update to create it)", name, err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("golden %s differs (run with -update and review the diff)\n--- want\n%s\n--- got\n%s", path, want, buf.Bytes())
	}
}

// Decode turns a raw JSON body into a generic value for golden files, so
// they show structure rather than one long escaped string.
func Decode(t testing.TB, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, raw)
	}
	return v
}
