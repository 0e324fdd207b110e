package resources_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/resources"
)

// TestAPIDocumentsEveryRoute: docs/api.md has a section for every route of
// the API, with the role the route really needs, and none for a route that
// does not exist.
func TestAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?m)^### `([A-Z]+) (/[^`]*)`\\s*\\n+Role: \\*\\*([A-Za-z]+)\\*\\*")
	documented := map[string]string{}
	for _, m := range section.FindAllStringSubmatch(string(b), -1) {
		documented[m[1]+" "+m[2]] = m[3]
	}
	if n := strings.Count(string(b), "\n### `"); n != len(documented) {
		t.Errorf("%d route sections, %d with a Role line", n, len(documented))
	}
	for _, rt := range resources.Routes() {
		key := rt.Method + " " + rt.Path
		role, ok := documented[key]
		if !ok {
			t.Errorf("docs/api.md does not document %s", key)
			continue
		}
		if role != rt.Access.String() {
			t.Errorf("docs/api.md: %s needs %s, documented as %s", key, rt.Access, role)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("docs/api.md documents %s, which is not a route", key)
	}
}
