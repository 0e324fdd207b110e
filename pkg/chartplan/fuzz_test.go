package chartplan

import (
	"testing"
)

// FuzzRewrite checks that the rewriter never panics and that whatever it
// returns parses. Seeds: every expression of the rewrite table (plus the
// files under testdata/fuzz/FuzzRewrite).
func FuzzRewrite(f *testing.F) {
	all := append(append(append(append([]rewriteCase(nil), rewriteCases...), aggregationCases...), movingThresholdCases...), fallbackCases...)
	for _, tc := range all {
		for k, v := range tc.ids {
			f.Add(tc.expr, k, v)
			break
		}
	}
	f.Add(`absent(nonexistent{job="x"})`, "job", "x")
	f.Add(`sum by (le) (rate(h_bucket[5m])) @ end() > 1`, "le", "0.5")
	f.Add(`x{"utf8.name"="v"} > 1`, "utf8.name", "v")
	f.Add(`label_join(x, "dst", ",", "a", "b") > 1`, "dst", "q\"uote")
	f.Add(`-x > -1`, "instance", "a\\b\n")
	f.Fuzz(func(t *testing.T, expr, name, value string) {
		rw, err := RewriteExpr(expr, map[string]string{name: value, "instance": "i-1"})
		if err != nil {
			return
		}
		if _, perr := ParseExpr(rw.Query); perr != nil {
			t.Fatalf("rewrite of %q returned %q, which does not parse: %v", expr, rw.Query, perr)
		}
		if rw.Query == "" {
			t.Fatalf("rewrite of %q returned an empty query", expr)
		}
	})
}
