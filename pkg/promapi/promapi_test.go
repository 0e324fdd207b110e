package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/settings"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func TestAuthAndHeaders(t *testing.T) {
	fake := fakeprom.New(t)
	fake.Lock()
	fake.BearerToken = "tok"
	fake.RequiredHeaders = map[string]string{"X-Scope-OrgID": "tenant-1"}
	fake.Rules = []fakeprom.Rule{{Group: "g", Name: "A", Query: "up == 0"}}
	fake.Unlock()

	c, err := New(Config{BaseURL: fake.URL + "/", BearerToken: "tok", Headers: map[string]string{"X-Scope-OrgID": "tenant-1"}})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c.Rules(context.Background(), "A")
	if err != nil || len(groups) != 1 || groups[0].Rules[0].Query != "up == 0" {
		t.Fatalf("rules = %+v, %v", groups, err)
	}

	bad, _ := New(Config{BaseURL: fake.URL, BearerToken: "wrong", Headers: map[string]string{"X-Scope-OrgID": "tenant-1"}})
	_, err = bad.Rules(context.Background(), "A")
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Retryable {
		t.Fatalf("wrong token: %#v", err)
	}

	fake.Lock()
	fake.BearerToken = ""
	fake.BasicUser, fake.BasicPassword = "u", "p"
	fake.RequiredHeaders = nil
	fake.Unlock()
	basic, _ := New(Config{BaseURL: fake.URL, BasicAuthUser: "u", BasicAuthPassword: "p"})
	if _, err := basic.Rules(context.Background(), "A"); err != nil {
		t.Fatalf("basic auth: %v", err)
	}
}

func TestQueryRangeAndLongQueriesArePosted(t *testing.T) {
	fake := fakeprom.New(t)
	long := "sum(up{job=\"" + strings.Repeat("x", 5000) + "\"})"
	fake.Lock()
	fake.Matrix[long] = []fakeprom.Series{{Labels: map[string]string{"job": "x"}, Value: func(tm time.Time) float64 {
		if tm.Unix()%2 == 0 {
			return math.NaN()
		}
		return 1.5
	}}}
	fake.Unlock()
	c, _ := New(Config{BaseURL: fake.URL})
	res, err := c.QueryRange(context.Background(), long, t0.Add(-time.Minute), t0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || len(res.Series[0].Points) != 7 || res.Series[0].Points[0].T != t0.Add(-time.Minute).UnixMilli() {
		t.Fatalf("result = %+v", res)
	}
	if fake.LastQuery() != long {
		t.Errorf("query was not received intact")
	}
	nan := 0
	for _, p := range res.Series[0].Points {
		if math.IsNaN(p.V) {
			nan++
		}
	}
	if nan == 0 {
		t.Errorf("NaN samples were lost")
	}
}

func TestErrorClassification(t *testing.T) {
	fake := fakeprom.New(t)
	c, _ := New(Config{BaseURL: fake.URL})
	_, err := c.QueryRange(context.Background(), "sum(", t0.Add(-time.Minute), t0, time.Second)
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.ErrorType != "bad_data" || ae.Retryable {
		t.Fatalf("bad query: %#v", err)
	}
	_, err = c.QueryRange(context.Background(), "up", t0.Add(-24*time.Hour), t0, time.Second)
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "11,000 points") {
		t.Fatalf("too many points: %v", err)
	}
	if _, err := c.QueryRange(context.Background(), "up", t0, t0, 0); err == nil {
		t.Fatal("zero step accepted")
	}

	fake.Lock()
	fake.Fail = true
	fake.Unlock()
	_, err = c.Rules(context.Background())
	if !errors.As(err, &ae) || ae.StatusCode != 503 || !ae.Retryable || ae.ErrorType != "unavailable" {
		t.Fatalf("down: %#v", err)
	}

	// A proxy's HTML error page.
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	}))
	defer html.Close()
	hc, _ := New(Config{BaseURL: html.URL})
	_, err = hc.Rules(context.Background())
	if !errors.As(err, &ae) || ae.StatusCode != 502 || !ae.Retryable || !strings.Contains(ae.Message, "502 Bad Gateway") {
		t.Fatalf("html: %#v", err)
	}

	// Nothing listening.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	dc, _ := New(Config{BaseURL: dead.URL})
	_, err = dc.Rules(context.Background())
	if !errors.As(err, &ae) || ae.StatusCode != 0 || !ae.Retryable {
		t.Fatalf("dead: %#v", err)
	}

	// Slow: bounded by the timeout.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	sc, _ := New(Config{BaseURL: slow.URL, Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err = sc.Rules(context.Background())
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "no answer within 100ms") || time.Since(start) > 5*time.Second {
		t.Fatalf("slow: %#v", err)
	}
	if !ae.Timeout() || (&Error{ErrorType: "timeout"}).Timeout() != true || (&Error{StatusCode: 503}).Timeout() {
		t.Errorf("Timeout: %v", ae.Timeout())
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "prometheus:9090", "ftp://x", "http://"} {
		if _, err := New(Config{BaseURL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	if _, err := New(Config{BaseURL: "http://p", RulesURL: "nope"}); err == nil {
		t.Error("bad rules URL accepted")
	}
}

func TestFromSettings(t *testing.T) {
	s := &settings.Settings{}
	s.ApplyDefaults()
	if _, err := FromSettings(s, "", ""); !errors.Is(err, ErrNoDataSource) {
		t.Errorf("no source: %v", err)
	}

	s.Prometheus.URL = "https://prom.example.com"
	s.Prometheus.BasicAuthUser = "alice"
	s.Prometheus.Headers = map[string]string{"X-Plain": "1"}
	s.Secrets = map[string]string{
		settings.SecretPrometheusPassword:           "pw",
		settings.PrometheusHeaderPrefix + "X-Token": "secret",
	}
	cfg, err := FromSettings(s, "http://grafana:3000", "sa-token")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://prom.example.com" || cfg.BasicAuthPassword != "pw" || cfg.Headers["X-Token"] != "secret" ||
		cfg.Headers["X-Plain"] != "1" || cfg.BearerToken != "" || cfg.Timeout != settings.DefaultQueryTimeout {
		t.Errorf("direct config = %+v", cfg)
	}

	s.Prometheus.URL = ""
	s.Prometheus.DatasourceUID = "prom/uid"
	cfg, err = FromSettings(s, "http://grafana:3000/", "sa-token")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "http://grafana:3000/api/datasources/proxy/uid/prom%2Fuid" || cfg.BearerToken != "sa-token" ||
		cfg.BasicAuthUser != "" || cfg.Headers["X-Grafana-Org-Id"] != "1" || cfg.RulesURL != cfg.BaseURL {
		t.Errorf("grafana config = %+v", cfg)
	}
	if _, err := FromSettings(s, "", "sa-token"); err == nil {
		t.Error("datasource without Grafana URL accepted")
	}
	if _, err := FromSettings(s, "http://grafana:3000", ""); err == nil {
		t.Error("datasource without token accepted")
	}
}

// The Grafana data source proxy path is used as a plain base URL.
func TestGrafanaProxyPath(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path + " " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"groups":[]}}`))
	}))
	defer srv.Close()
	c, _ := New(Config{BaseURL: GrafanaDatasourceURL(srv.URL, "abc"), BearerToken: "glsa_x"})
	if _, err := c.Rules(context.Background(), "A"); err != nil {
		t.Fatal(err)
	}
	if got != "/api/datasources/proxy/uid/abc/api/v1/rules Bearer glsa_x" {
		t.Errorf("request = %q", got)
	}
}

func TestTLSSkipVerify(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"groups":[]}}`))
	}))
	defer srv.Close()
	strict, _ := New(Config{BaseURL: srv.URL})
	if _, err := strict.Rules(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("self-signed certificate accepted without tlsSkipVerify: %v", err)
	}
	lax, _ := New(Config{BaseURL: srv.URL, TLSSkipVerify: true})
	if _, err := lax.Rules(context.Background()); err != nil {
		t.Errorf("tlsSkipVerify: %v", err)
	}
}

func TestRuleGroupFlavour(t *testing.T) {
	for body, want := range map[string]string{
		`{"name":"g","file":"f","rules":[],"interval":15}`:                                                   FlavourPrometheus,
		`{"name":"g","file":"f","rules":[],"interval":15,"id":"1234","type":"prometheus","concurrency":1}`:   FlavourVMAlert,
		`{"name":"g","rules":[{"name":"a","type":"alerting","datasourceType":"prometheus","group_id":"1"}]}`: FlavourVMAlert,
		`{"name":"g","file":"f","rules":[],"interval":15,"partialResponseStrategy":"ABORT"}`:                 FlavourThanos,
		`{"name":"g","file":"f","rules":[],"interval":15,"sourceTenants":null}`:                              FlavourMimir,
		`{"name":"g","file":"f","rules":[],"interval":15,"sourceTenants":["a","b"]}`:                         FlavourMimir,
	} {
		var g RuleGroup
		if err := json.Unmarshal([]byte(body), &g); err != nil {
			t.Fatal(err)
		}
		if got := g.Flavour(); got != want {
			t.Errorf("%s: flavour %q, want %q", body, got, want)
		}
	}
}
