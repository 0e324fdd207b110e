package deliverytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// recorder plays the chat platform for the children: it records every
// message and, like a WeCom robot, answers errcode 45009 to the message that
// would exceed perMinute within window (refused messages count too).
type recorder struct {
	srv       *httptest.Server
	perMinute int
	window    time.Duration
	// delay holds every answer this long (a slow robot builds a backlog).
	delay time.Duration

	mu       sync.Mutex
	stamps   []time.Time
	texts    map[string]int       // alert fingerprint → text deliveries
	firstAt  map[string]time.Time // fingerprint → first text
	charts   int
	messages int
	digests  int
	// overviews are digest overview images sent after their digest text.
	overviews int
	rateHits  int
	byFrom    map[string]int
}

func newRecorder(t *testing.T, perMinute int, window time.Duration) *recorder {
	r := &recorder{perMinute: perMinute, window: window, texts: map[string]int{}, firstAt: map[string]time.Time{}, byFrom: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) serve(w http.ResponseWriter, req *http.Request) {
	var m recordedMessage
	if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
		w.Write([]byte(`{"errcode":40001,"errmsg":"bad body"}`))
		return
	}
	time.Sleep(r.delay)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perMinute > 0 {
		keep := r.stamps[:0]
		for _, s := range r.stamps {
			if now.Sub(s) < r.window {
				keep = append(keep, s)
			}
		}
		r.stamps = append(keep, now)
		if len(r.stamps) > r.perMinute {
			r.rateHits++
			w.Write([]byte(`{"errcode":45009,"errmsg":"api freq out of limit"}`))
			return
		}
	}
	r.messages++
	r.byFrom[m.From]++
	if m.Digest && m.Part == "chart" {
		r.overviews++
	} else if m.Digest {
		r.digests++
	}
	if m.Part == "chart" {
		r.charts++
	} else {
		for _, fp := range m.FPs {
			r.texts[fp]++
			if _, ok := r.firstAt[fp]; !ok {
				r.firstAt[fp] = now
			}
		}
	}
	w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
}

type tally struct {
	distinct, duplicates, messages, digests, overviews, charts, rateHits int
	byFrom                                                               map[string]int
}

func (r *recorder) tally() tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := tally{distinct: len(r.texts), messages: r.messages, digests: r.digests, overviews: r.overviews, charts: r.charts, rateHits: r.rateHits, byFrom: map[string]int{}}
	for _, n := range r.texts {
		t.duplicates += n - 1
	}
	for k, v := range r.byFrom {
		t.byFrom[k] = v
	}
	return t
}

func (r *recorder) has(fps []string) (missing int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fp := range fps {
		if r.texts[fp] == 0 {
			missing++
		}
	}
	return missing
}

// webhook is one Alertmanager notification with n alerts.
func webhook(id, n int) (*template.Data, []string) {
	d := &template.Data{Receiver: "ops", Status: "firing", GroupLabels: template.KV{"alertname": "Burst"},
		CommonLabels: template.KV{"alertname": "Burst"}, ExternalURL: "http://am.example"}
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	var fps []string
	for i := range n {
		fp := fmt.Sprintf("w%05d-%02d", id, i)
		inst := fmt.Sprintf("node%d-%d:9100", id, i)
		d.Alerts = append(d.Alerts, template.Alert{Status: "firing", Fingerprint: fp, StartsAt: start,
			Labels:      template.KV{"alertname": "Burst", "instance": inst, "severity": "warning"},
			Annotations: template.KV{"summary": "burst alert on " + inst}})
		fps = append(fps, fp)
	}
	return d, fps
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// post sends one webhook; it reports whether it was acknowledged with 200.
func post(addr string, d *template.Data) (bool, time.Duration) {
	b, _ := json.Marshal(d)
	t0 := time.Now()
	resp, err := httpClient.Post("http://"+addr+"/webhook", "application/json", bytes.NewReader(b))
	if err != nil {
		return false, time.Since(t0)
	}
	resp.Body.Close()
	return resp.StatusCode == 200, time.Since(t0)
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !eventually(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
