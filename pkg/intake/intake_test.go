package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"
)

func loadFiring(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/firing.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type recordingAcceptor struct {
	got  []*template.Data
	err  error
	recv []string
	keys []string
}

func (r *recordingAcceptor) Accept(_ context.Context, receiver, groupKey string, d *template.Data) (Accepted, error) {
	r.keys = append(r.keys, groupKey)
	if r.err != nil {
		return Accepted{}, r.err
	}
	r.got = append(r.got, d)
	r.recv = append(r.recv, receiver)
	return Accepted{Status: "accepted", ID: "n1", Alerts: len(d.Alerts)}, nil
}

func serve(h http.Handler, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	mux.Handle("/webhook/{receiver}", h)
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func TestWebhookAcceptsAlertmanagerPayload(t *testing.T) {
	acc := &recordingAcceptor{}
	h := &Handler{MaxBodyBytes: 4 << 20, Acceptor: acc,
		ReceiverKnown: func(r string) bool { return r == "ops" }}
	rec := serve(h, http.MethodPost, "/webhook/ops", "application/json", loadFiring(t))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var res Accepted
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Alerts != 1 || res.ID != "n1" || res.Status != "accepted" {
		t.Fatalf("answer %+v", res)
	}
	if len(acc.keys) != 1 || acc.keys[0] != `{}:{alertname="HighCPU"}` {
		t.Fatalf("group key %q", acc.keys)
	}
	if len(acc.got) != 1 || acc.recv[0] != "ops" || acc.got[0].Alerts[0].Labels["instance"] != "node-2:9100" {
		t.Fatalf("acceptor got %+v", acc.got)
	}
	if fp := acc.got[0].Alerts[0].Fingerprint; fp != "c4e5a1b2d3f40001" {
		t.Fatalf("fingerprint %q", fp)
	}
	// POST /webhook takes the receiver from the payload.
	rec = serve(h, http.MethodPost, "/webhook", "application/json", loadFiring(t))
	if rec.Code != http.StatusOK || acc.recv[1] != "ops" {
		t.Fatalf("status %d receiver %v", rec.Code, acc.recv)
	}
}

func TestWebhookBadInput(t *testing.T) {
	valid := loadFiring(t)
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	alert0 := func(m map[string]any) map[string]any { return m["alerts"].([]any)[0].(map[string]any) }
	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		contains                  string
	}{
		{"malformed json", "POST", "/webhook/ops", "application/json", []byte(`{"alerts": [`), 400, "malformed JSON"},
		{"not json", "POST", "/webhook/ops", "application/json", []byte(`hello`), 400, "not a JSON object"},
		{"empty body", "POST", "/webhook/ops", "application/json", nil, 400, "empty body"},
		{"not alertmanager", "POST", "/webhook/ops", "application/json", []byte(`{"foo":1}`), 400, "not an Alertmanager webhook"},
		{"no alerts", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { m["alerts"] = []any{} }), 400, "no alerts"},
		{"alerts wrong type", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { m["alerts"] = "x" }), 400, "alerts"},
		{"bad status", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { alert0(m)["status"] = "burning" }), 400, "alerts[0].status"},
		{"no alertname", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { delete(alert0(m)["labels"].(map[string]any), "alertname") }), 400, "alertname"},
		{"bad time", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { alert0(m)["startsAt"] = "yesterday" }), 400, "bad time"},
		{"no startsAt", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { delete(alert0(m), "startsAt") }), 400, "startsAt"},
		{"wrong version", "POST", "/webhook/ops", "application/json", mutate(func(m map[string]any) { m["version"] = "3" }), 400, "version"},
		{"too large", "POST", "/webhook/ops", "application/json", append(append([]byte(`{"alerts":[],"x":"`), bytes.Repeat([]byte("a"), 5000)...), `"}`...), 413, "larger than"},
		{"wrong method", "GET", "/webhook/ops", "", nil, 405, "not allowed"},
		{"wrong method put", "PUT", "/webhook", "application/json", valid, 405, "not allowed"},
		{"unknown receiver", "POST", "/webhook/nobody", "application/json", valid, 404, "unknown receiver"},
		{"form content type", "POST", "/webhook/ops", "application/x-www-form-urlencoded", valid, 415, "Content-Type"},
		// What a page on another site can post without a CORS preflight.
		{"text/plain content type", "POST", "/webhook/ops", "text/plain;charset=UTF-8", valid, 415, "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acc := &recordingAcceptor{}
			h := &Handler{MaxBodyBytes: 4096, Acceptor: acc, ReceiverKnown: func(r string) bool { return r == "ops" }}
			if c.name == "too large" {
				h.MaxBodyBytes = 1024
			}
			rec := serve(h, c.method, c.path, c.ctype, c.body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			var e Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body is not JSON: %q", rec.Body)
			}
			if !strings.Contains(e.Error(), c.contains) {
				t.Fatalf("error %q does not mention %q", e.Error(), c.contains)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			if len(acc.got) != 0 {
				t.Fatalf("a rejected notification reached the acceptor")
			}
		})
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{"application/json": true, "application/json; charset=utf-8": true,
		"Application/JSON": true, "application/merge-patch+json": true, "text/plain": false, "text/json": false,
		"application/x-www-form-urlencoded": false, "": false, "application/jsonp": false} {
		if IsJSON(ct) != want {
			t.Errorf("IsJSON(%q) = %v", ct, !want)
		}
	}
}

func TestWebhookStoreFailureIs503(t *testing.T) {
	h := &Handler{MaxBodyBytes: 4 << 20, Acceptor: &recordingAcceptor{err: errors.New("disk full")}}
	rec := serve(h, http.MethodPost, "/webhook/ops", "application/json", loadFiring(t))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "disk full") {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// refusal is an acceptor error with words for the caller, as delivery's
// queue and channel errors have.
type refusal struct{ cause error }

func (r refusal) Error() string { return "refused: " + r.cause.Error() }
func (r refusal) Unwrap() error { return r.cause }
func (r refusal) Public() string {
	return "channel \"ops\" cannot be used until its settings are fixed"
}

// TestWebhookAcceptorErrorsAre503: the acceptor never turns a notification
// into a client mistake — whatever it answers, Alertmanager retries — and
// what it marks as public is all the caller reads of it.
func TestWebhookAcceptorErrorsAre503(t *testing.T) {
	for _, c := range []struct {
		name       string
		err        error
		want, hide string
	}{
		{"public words only", fmt.Errorf("accept: %w", refusal{errors.New("dial tcp 10.1.2.3:5432: refused")}),
			`channel \"ops\" cannot be used until its settings are fixed`, "10.1.2.3"},
		// An acceptor cannot make a 4xx: the decision is the handler's.
		{"an intake error from the acceptor", &Error{Status: http.StatusNotFound, Msg: "unknown receiver"}, "Alertmanager will retry", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &Handler{MaxBodyBytes: 4 << 20, Acceptor: &recordingAcceptor{err: c.err}}
			rec := serve(h, http.MethodPost, "/webhook/ops", "application/json", loadFiring(t))
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), c.want) {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if c.hide != "" && strings.Contains(rec.Body.String(), c.hide) {
				t.Fatalf("the answer shows the cause: %s", rec.Body)
			}
		})
	}
}

// TestGrafanaAlertingPayload: Grafana Alerting's webhook contact point posts
// Alertmanager's fields as version "1", with its own extras.
func TestGrafanaAlertingPayload(t *testing.T) {
	d, err := Decode([]byte(`{"receiver":"alertchart","status":"firing","orgId":1,"alerts":[{"status":"firing",
		"labels":{"alertname":"High memory usage","team":"blue"},"annotations":{"summary":"zone us-1"},
		"startsAt":"2021-10-12T09:51:03.157076+02:00","endsAt":"0001-01-01T00:00:00Z",
		"generatorURL":"https://grafana.example/alerting/1afz29v7z/edit","fingerprint":"c6eadffa33fcdf37",
		"silenceURL":"https://grafana.example/alerting/silence/new","dashboardURL":"","panelURL":"","values":{"B":44.2}}],
		"groupLabels":{"alertname":"High memory usage"},"commonLabels":{"team":"blue"},"commonAnnotations":{},
		"externalURL":"https://grafana.example/","version":"1","groupKey":"{}:{alertname=\"High memory usage\"}",
		"truncatedAlerts":0,"title":"[FIRING:1]","state":"alerting","message":"**Firing**"}`))
	if err != nil || len(d.Alerts) != 1 || d.Alerts[0].Labels["alertname"] != "High memory usage" {
		t.Fatalf("%v %+v", err, d)
	}
}

func TestDecodeFillsFingerprintAndStatus(t *testing.T) {
	d, err := Decode([]byte(`{"alerts":[{"status":"resolved","labels":{"alertname":"A","instance":"x"},"startsAt":"2026-11-25T01:00:00Z","endsAt":"2026-11-25T01:05:00Z"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != "resolved" || d.Alerts[0].Fingerprint == "" {
		t.Fatalf("%+v", d)
	}
	if Fingerprint(d.Alerts[0].Labels) != d.Alerts[0].Fingerprint {
		t.Fatal("fingerprint not stable")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-25T01:00:00Z"}]}`))
	f.Add([]byte(`{"alerts":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err == nil && len(d.Alerts) == 0 {
			t.Fatal("accepted a notification without alerts")
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Status != 400) {
			t.Fatalf("client error not a 400: %v", err)
		}
	})
}

// TestGrafanaExtrasBecomeAnnotations: Grafana's per-alert fields that
// template.Alert has no place for are kept as private annotations, and the
// current value reaches the message's value annotation at once.
func TestGrafanaExtrasBecomeAnnotations(t *testing.T) {
	b, err := os.ReadFile("testdata/grafana.json")
	if err != nil {
		t.Fatal(err)
	}
	n, err := DecodeNotification(b)
	if err != nil {
		t.Fatal(err)
	}
	a0, a1 := n.Alerts[0].Annotations, n.Alerts[1].Annotations
	want0 := map[string]string{
		AnnotationGrafanaRuleUID:      "cpu-high-1",
		AnnotationGrafanaValues:       `{"B":92.34567,"C":1}`,
		AnnotationGrafanaOrgID:        "1",
		AnnotationValue:               "92.3457",
		AnnotationGrafanaPanelURL:     "http://grafana.example:3000/d/node?from=1765090860000&orgId=1&to=1765094460000&viewPanel=2",
		AnnotationGrafanaSilenceURL:   "http://grafana.example:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Dcpu-high-1&matcher=instance%3Dweb-1%3A9100&matcher=severity%3Dcritical&orgId=1",
		AnnotationGrafanaDashboardURL: "http://grafana.example:3000/d/node?from=1765090860000&orgId=1&to=1765094460000",
		"summary":                     "CPU above 80% on web-1:9100",
	}
	for k, v := range want0 {
		if a0[k] != v {
			t.Errorf("alert 0 annotation %s = %q, want %q", k, a0[k], v)
		}
	}
	if !strings.HasPrefix(a0[AnnotationGrafanaValueString], "[ var='B'") {
		t.Errorf("valueString %q", a0[AnnotationGrafanaValueString])
	}
	// No values map: read from valueString. The rule's own value
	// annotation wins; no ruleUID in the payload (older Grafana).
	if a1[AnnotationGrafanaValues] != `{"B":85.5,"C":1}` || a1[AnnotationValue] != "{{ $values.B }} (templated by the rule)" {
		t.Errorf("alert 1 annotations %v", a1)
	}
	if _, ok := a1[AnnotationGrafanaRuleUID]; ok {
		t.Errorf("alert 1 has a rule UID annotation: %v", a1)
	}
	if _, ok := a1[AnnotationGrafanaDashboardURL]; ok {
		t.Errorf("empty dashboardURL kept: %v", a1)
	}
	// An Alertmanager payload is left as it is.
	d, err := Decode(loadFiring(t))
	if err != nil {
		t.Fatal(err)
	}
	for k := range d.Alerts[0].Annotations {
		if strings.HasPrefix(k, "__") || k == AnnotationValue {
			t.Errorf("Alertmanager alert got annotation %s", k)
		}
	}
}

func TestValueText(t *testing.T) {
	for _, c := range []struct {
		in   map[string]float64
		want string
	}{
		{map[string]float64{"B": 92.34567, "C": 1}, "92.3457"},
		{map[string]float64{"A": 0}, "0"},
		{map[string]float64{"B": 1, "C": 1}, "B=1, C=1"},
		{map[string]float64{"B": 3.5, "D": 7, "C": 0}, "B=3.5, D=7"},
		{map[string]float64{"B0": 2.5e-7}, "2.5e-07"},
		{map[string]float64{"B": 123456789}, "123456789"},
	} {
		if got := ValueText(c.in); got != c.want {
			t.Errorf("ValueText(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
