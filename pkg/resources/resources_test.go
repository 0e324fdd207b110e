package resources_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/resources"
	"github.com/alertchart/alertchart/pkg/settings"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
	fakes3 "github.com/alertchart/alertchart/test/fakes/s3"
)

type source struct{ p *pipeline.Pipeline }

func (s source) Pipeline() (*pipeline.Pipeline, error) { return s.p, nil }
func (s source) Health(ctx context.Context) resources.Health {
	return pipeline.Summarise(s.p.Checks(ctx))
}

// newPipeline builds a real pipeline from the settings JSON js and its
// secrets, closed when the test ends.
func newPipeline(t *testing.T, js string, secrets map[string]string) (*settings.Settings, *pipeline.Pipeline) {
	t.Helper()
	s, err := settings.Parse([]byte(js), secrets)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(context.Background(), s, pipeline.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return s, p
}

// mount registers the routes over p, callers read by testCaller.
func mount(p *pipeline.Pipeline, opts resources.Options) *http.ServeMux {
	opts.Caller = testCaller
	mux := http.NewServeMux()
	resources.Register(mux, source{p}, opts)
	return mux
}

// newAPI runs the routes over a real pipeline: a fake Prometheus with one
// rule and two instances, an inbox channel and an SQLite queue.
func newAPI(t *testing.T) (http.Handler, *fakeprom.Server) {
	t.Helper()
	prom := fakeprom.New(t)
	prom.Lock()
	prom.Rules = []fakeprom.Rule{{Group: "node", Name: "HighCPU", Query: `cpu_percent > 80`, For: 5 * time.Minute,
		Labels: map[string]string{"severity": "critical"}}}
	prom.Matrix[`cpu_percent{instance="node-2:9100",job="node"}`] = []fakeprom.Series{{
		Labels: map[string]string{"__name__": "cpu_percent", "instance": "node-2:9100", "job": "node"},
		Value:  func(t time.Time) float64 { return 90 + float64(t.Unix()%7) },
	}}
	prom.Unlock()
	js := `{"prometheus":{"url":"` + prom.URL + `"},"chart":{"language":"en"},
		"delivery":{"dataDir":"` + queuetest.DataDir(t) + `"},
		"channels":[{"name":"box","type":"inbox","dir":"` + t.TempDir() + `"}],
		"routes":[{"receiver":"ops","channels":["box"]}]}`
	_, p := newPipeline(t, js, nil)
	return mount(p, resources.Options{}), prom
}

// callerKey carries the test's caller in the request context, as the SDK's
// httpadapter carries Grafana's user.
type callerKey struct{}

func testCaller(r *http.Request) resources.Caller {
	if c, ok := r.Context().Value(callerKey{}).(resources.Caller); ok {
		return c
	}
	return resources.Caller{}
}

// operator is a caller with every right: what the standalone server gives
// whoever holds its token.
var operator = resources.Caller{Role: resources.RoleAdmin, Alertmanager: true}

func withCaller(r *http.Request, c resources.Caller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}

func payload(instance string) []byte {
	start := time.Now().Add(-3 * time.Minute).UTC().Format(time.RFC3339)
	return []byte(`{"version":"4","status":"firing","receiver":"ops","groupKey":"g","alerts":[{"status":"firing",
	"labels":{"alertname":"HighCPU","instance":"` + instance + `","job":"node","severity":"critical"},
	"annotations":{"summary":"CPU high"},"startsAt":"` + start + `",
	"generatorURL":"http://prom/graph?g0.expr=cpu_percent+%3E+80&g0.tab=1","fingerprint":"f1"}]}`)
}

func do(h http.Handler, method, path string, body []byte) (*httptest.ResponseRecorder, map[string]any) {
	return doAs(h, operator, method, path, body)
}

func doAs(h http.Handler, c resources.Caller, method, path string, body []byte) (*httptest.ResponseRecorder, map[string]any) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	h.ServeHTTP(rec, withCaller(req, c))
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec, m
}

func TestExplainShowsRuleQueryAndWindow(t *testing.T) {
	t.Parallel()
	h, _ := newAPI(t)
	rec, m := do(h, http.MethodPost, "/explain", payload("node-2:9100"))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	plans := m["plans"].([]any)
	plan := plans[0].(map[string]any)
	if plan["source"] != "rules_api" || plan["query"] != `cpu_percent{instance="node-2:9100",job="node"}` || plan["window"] != "10m0s" {
		t.Fatalf("plan: %v", plan)
	}
	if !strings.Contains(plan["title"].(string), "last 10m") {
		t.Fatalf("title %v", plan["title"])
	}
}

func TestPreviewRendersThePlannedChart(t *testing.T) {
	t.Parallel()
	h, prom := newAPI(t)
	rec, m := do(h, http.MethodPost, "/preview", payload("node-2:9100"))
	if rec.Code != 200 || m["renderer"] != "native" || m["imageError"] != nil {
		t.Fatalf("%d %v", rec.Code, m)
	}
	img := m["image"].(string)
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(img, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 1000 {
		t.Fatalf("preview image: %v %+v", err, cfg)
	}
	if prom.LastQuery() != `cpu_percent{instance="node-2:9100",job="node"}` {
		t.Fatalf("queried %q", prom.LastQuery())
	}
	// A bad index is a client mistake.
	if rec, _ := do(h, http.MethodPost, "/preview?index=5", payload("x")); rec.Code != 400 {
		t.Fatalf("bad index: %d", rec.Code)
	}
}

func TestChannelTestAndHealth(t *testing.T) {
	t.Parallel()
	h, _ := newAPI(t)
	rec, m := do(h, http.MethodPost, "/channels/box/test", nil)
	if rec.Code != 200 || m["ok"] != true {
		t.Fatalf("%d %v", rec.Code, m)
	}
	if rec, _ := do(h, http.MethodPost, "/channels/ghost/test", nil); rec.Code != 404 {
		t.Fatalf("unknown channel: %d", rec.Code)
	}
	if rec, _ := do(h, http.MethodGet, "/channels/box/test", nil); rec.Code != 405 {
		t.Fatalf("GET test: %d", rec.Code)
	}
	rec, m = do(h, http.MethodGet, "/health", nil)
	if rec.Code != 200 || m["status"] != "ok" {
		t.Fatalf("health %d %v", rec.Code, m)
	}
}

func TestWebhookThenDeliveriesAndRecent(t *testing.T) {
	t.Parallel()
	h, _ := newAPI(t)
	rec, m := do(h, http.MethodPost, "/webhook/ops", payload("node-2:9100"))
	if rec.Code != 200 || m["status"] != "accepted" {
		t.Fatalf("%d %v", rec.Code, m)
	}
	if rec, _ := do(h, http.MethodPost, "/webhook/nobody", payload("node-2:9100")); rec.Code != 404 {
		t.Fatalf("unknown receiver: %d", rec.Code)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, m = do(h, http.MethodGet, "/deliveries", nil)
		ds, _ := m["deliveries"].([]any)
		if len(ds) == 1 && ds[0].(map[string]any)["hasChart"] == true && ds[0].(map[string]any)["status"] == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not sent with a chart: %v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, m = do(h, http.MethodGet, "/recent", nil)
	if alerts, _ := m["alerts"].([]any); len(alerts) != 1 {
		t.Fatalf("recent: %v", m)
	}
}

func TestHealthChecksTheImageStoreBucket(t *testing.T) {
	t.Parallel()
	s3 := fakes3.New()
	defer s3.Close()
	for _, c := range []struct {
		bucket, want string
	}{{"charts", "ok"}, {"missing", "warning"}} {
		js := `{"chart":{"language":"en"},"delivery":{"dataDir":"` + queuetest.DataDir(t) + `"},
			"imageStore":{"endpoint":"` + s3.Endpoint() + `","bucket":"` + c.bucket + `","region":"us-east-1","insecure":true,"pathStyle":true}}`
		s, err := settings.Parse([]byte(js), map[string]string{"imageStoreAccessKey": s3.AccessKey, "imageStoreSecretKey": s3.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		p, err := pipeline.New(context.Background(), s, pipeline.Env{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ch := range p.Checks(context.Background()) {
			if ch.Name == "image store" {
				found = true
				if ch.Status != c.want {
					t.Errorf("bucket %s: %s %s", c.bucket, ch.Status, ch.Message)
				}
			}
		}
		_ = p.Close(context.Background())
		if !found {
			t.Errorf("bucket %s: no image store check", c.bucket)
		}
	}
}
