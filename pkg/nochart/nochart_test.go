package nochart

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/i18n"
)

// declared returns every Reason constant of the package.
func declared(t *testing.T) []Reason {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "nochart.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []Reason
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for _, v := range vs.Values {
				s, _ := strconv.Unquote(v.(*ast.BasicLit).Value)
				out = append(out, Reason(s))
			}
		}
	}
	return out
}

// Every reason has a short text in both languages, without the things a
// chat must not see.
func TestEveryReasonIsWorded(t *testing.T) {
	rs := declared(t)
	if len(rs) < 15 {
		t.Fatalf("found %d reasons", len(rs))
	}
	for _, r := range rs {
		if !i18n.Has(string(r)) {
			t.Errorf("%s is not in the catalogue", r)
			continue
		}
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			text := r.Text(lang)
			if len([]rune(text)) > 60 || strings.ContainsAny(text, "{}/=?") || strings.Contains(text, "http") {
				t.Errorf("%s in %s is not a short plain reason: %q", r, lang, text)
			}
		}
	}
}

func TestNotes(t *testing.T) {
	if got := QueryFailed.Note("zh"); got != "图表不可用：Prometheus 查询失败" {
		t.Errorf("zh note %q", got)
	}
	if got := QueryFailed.Note("en"); got != "chart unavailable: the Prometheus query failed" {
		t.Errorf("en note %q", got)
	}
	if Reason("chart.reason.nonsense").Text("en") != "internal error" {
		t.Error("an unknown reason reads as an internal error")
	}

	full := `chart query failed: prometheus query_range: Get "http://10.0.0.7:9090/api/v1/query_range?query=up": dial tcp: refused`
	err := fmt.Errorf("wrapped: %w", &Error{Reason: QueryFailed, Detail: full, Err: errors.New("dial tcp: refused")})
	if ReasonOf(err) != QueryFailed || Note("en", err) != "chart unavailable: the Prometheus query failed" {
		t.Errorf("reason %q note %q", ReasonOf(err), Note("en", err))
	}
	if !strings.Contains(err.Error(), "10.0.0.7") {
		t.Error("the full reason stays in the error text for the record")
	}
	// What delivery sees without importing this package.
	var r interface {
		ChartReason() string
		ChartNote(lang string) string
	}
	if !errors.As(err, &r) || r.ChartReason() != "chart.reason.query_failed" || r.ChartNote("zh") != "图表不可用：Prometheus 查询失败" {
		t.Errorf("interface view: %v", r)
	}

	for _, quiet := range []Reason{NoDataSource, Disabled} {
		e := New(quiet, "no Prometheus data source is configured")
		if !quiet.Quiet() || e.ChartNote("en") != "" || Note("en", e) != "" || quiet.Note("en") == "" {
			t.Errorf("%s: quiet %v, note %q", quiet, quiet.Quiet(), e.ChartNote("en"))
		}
	}
	if ReasonOf(nil) != "" || Note("zh", nil) != "" {
		t.Error("nil error")
	}
	if ReasonOf(fmt.Errorf("x: %w", context.DeadlineExceeded)) != Timeout || ReasonOf(errors.New("boom")) != Internal {
		t.Error("errors without a reason")
	}
	if Note("zh", errors.New("boom")) != "图表不可用：内部错误" {
		t.Errorf("internal: %q", Note("zh", errors.New("boom")))
	}
}
