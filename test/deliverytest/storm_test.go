package deliverytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	wecomfake "github.com/alertchart/alertchart/test/fakes/wecom"
)

// namedRobot is the WeCom contract fake (test/fakes/wecom: 4,096-byte
// markdown, 20 messages a minute, errcode 45009) behind a proxy that
// counts its 45009 answers. Alerts are counted as a user would: named in
// the text of a message the robot accepted, not by the fingerprints the
// sender knew it carried.
type namedRobot struct {
	fake     *wecomfake.Server
	proxy    *httptest.Server
	rateHits atomic.Int64
}

func newNamedRobot(t *testing.T) *namedRobot {
	r := &namedRobot{fake: wecomfake.New()}
	t.Cleanup(r.fake.Close)
	r.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		out, err := http.NewRequestWithContext(req.Context(), req.Method, r.fake.URL+req.URL.RequestURI(), req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var ans struct {
			Errcode int `json:"errcode"`
		}
		if json.Unmarshal(b, &ans) == nil && ans.Errcode == 45009 {
			r.rateHits.Add(1)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(b)
	}))
	t.Cleanup(r.proxy.Close)
	return r
}

func (r *namedRobot) url() string { return r.proxy.URL + "/cgi-bin/webhook/send?key=" + r.fake.Key }

// instanceRE finds the instance labels webhook() gives its alerts
// (node<webhook>-<alert>:9100), each naming one alert.
var instanceRE = regexp.MustCompile(`node(\d+)-(\d+):9100`)

// textOf is the text of an accepted WeCom message (markdown or text).
func textOf(m wecomfake.Message) string {
	var body struct {
		Markdown *struct{ Content string } `json:"markdown"`
		Text     *struct{ Content string } `json:"text"`
	}
	if json.Unmarshal(m.Body, &body) != nil {
		return ""
	}
	switch {
	case body.Markdown != nil:
		return body.Markdown.Content
	case body.Text != nil:
		return body.Text.Content
	}
	return ""
}

// namedTally reads what the robot accepted.
type namedTally struct {
	named    map[string]time.Time // fingerprint → first message naming it
	repeats  int                  // alerts named again in a later message
	messages int
	images   int
	digests  int // messages naming more than one webhook's alerts
	notes    int // texts naming no alert (chart notes)
	maxBytes int
	// timeline is one entry per message: seconds since start, kind and
	// alerts newly named.
	timeline []string
	sample   string // the longest digest text
}

func (r *namedRobot) tally(t0 time.Time) namedTally {
	t := namedTally{named: map[string]time.Time{}}
	for _, m := range r.fake.Accepted() {
		t.messages++
		at := m.At.Sub(t0).Seconds()
		if m.MsgType == "image" {
			t.images++
			t.timeline = append(t.timeline, fmt.Sprintf("%.1fs image", at))
			continue
		}
		text := textOf(m)
		if len(text) > t.maxBytes {
			t.maxBytes, t.sample = len(text), text
		}
		before := len(t.named)
		hooks := map[string]bool{}
		seen := map[string]bool{}
		for _, g := range instanceRE.FindAllStringSubmatch(text, -1) {
			var hook, alert int
			fmt.Sscanf(g[1], "%d", &hook)
			fmt.Sscanf(g[2], "%d", &alert)
			fp := fmt.Sprintf("w%05d-%02d", hook, alert)
			if seen[fp] {
				continue // the instance is in the line and in its summary
			}
			seen[fp] = true
			hooks[g[1]] = true
			if _, ok := t.named[fp]; ok {
				t.repeats++
				continue
			}
			t.named[fp] = m.At
		}
		t.timeline = append(t.timeline, fmt.Sprintf("%.1fs %d", at, len(t.named)-before))
		switch {
		case len(seen) == 0:
			t.notes++
		case len(hooks) > 1:
			t.digests++
		}
	}
	return t
}

// TestStormNamedRealTime is issue 13's storm in real time: 2,000 alerts
// (400 webhooks × 5) within 25 s to one WeCom robot that takes 20 messages
// a minute and 4,096 bytes of markdown. Every alert must be named in the
// text of a message the robot accepted within 3 minutes of the first
// webhook, with no 45009 answer. Digests are cut to what a message names,
// so an alert is recorded sent only when a message named it.
func TestStormNamedRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("takes up to 3 minutes")
	}
	stormNamed(t, childConfig{}, 400, 25*time.Second, 3*time.Minute)
}

// TestStormNamedPostgres is TestStormNamedRealTime on a PostgreSQL queue,
// where a robot with a small limit is sent to through River only (its
// digests hand their leftovers on through the shared tables).
func TestStormNamedPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("takes up to 3 minutes")
	}
	stormNamed(t, childConfig{PostgresDSN: startPostgres(t)}, 400, 25*time.Second, 3*time.Minute)
}

// TestStormNamed10k is the large storm: 10,000 alerts (2,000 webhooks × 5)
// within 60 s to the same robot, every one named within 10 minutes, with
// the child's peak RSS at most 150 MB.
func TestStormNamed10k(t *testing.T) {
	if testing.Short() || os.Getenv("ALERTCHART_LONG") == "" {
		t.Skip("takes 3–10 minutes: run with ALERTCHART_LONG=1 (README, Performance)")
	}
	rss := stormNamed(t, childConfig{}, 2000, 60*time.Second, 10*time.Minute)
	if rss > 150 {
		t.Errorf("peak RSS %.1f MB exceeds 150 MB", rss)
	}
}

// stormNamed posts hooks webhooks of 5 alerts evenly over within to a
// child (cfg: its queue) whose one channel is a real WeCom notifier on the contract fake,
// and checks that every alert is named within budget of the first webhook
// with no 45009 answer. It returns the child's peak RSS in MB.
func stormNamed(t *testing.T, cfg childConfig, hooks int, within, budget time.Duration) float64 {
	alertsPer = 5
	robot := newNamedRobot(t)
	cfg.Name, cfg.DataDir, cfg.WeComURL, cfg.Chart = "named", t.TempDir(), robot.url(), true
	c := startChild(t, cfg)
	acked := make([]atomic.Bool, hooks)
	t0 := time.Now()
	burst(func() string { return c.addr }, hooks, 8, within/time.Duration(hooks), acked, nil)
	sendTime := time.Since(t0)
	for i := range acked {
		if !acked[i].Load() {
			t.Fatalf("webhook %d was not acknowledged", i)
		}
	}
	total := hooks * alertsPer
	ok := eventually(budget-time.Since(t0), func() bool { return len(robot.tally(t0).named) == total })
	got := robot.tally(t0)
	var lastAt time.Time
	for _, at := range got.named {
		if at.After(lastAt) {
			lastAt = at
		}
	}
	rss := c.rssPeakMB()
	t.Logf("storm: %d alerts (%d webhooks × %d) posted in %s; %d named in the robot's messages, the last %s after the first webhook; "+
		"%d messages (%d digests, %d images, %d texts naming no alert), longest text %d bytes; %d alerts named again; %d answers 45009; "+
		"child peak RSS %.1f MB",
		total, hooks, alertsPer, sendTime.Round(time.Millisecond), len(got.named), lastAt.Sub(t0).Round(time.Millisecond),
		got.messages, got.digests, got.images, got.notes, got.maxBytes, got.repeats, robot.rateHits.Load(), rss)
	t.Logf("messages (time after the first webhook, alerts newly named): %s", strings.Join(got.timeline, ", "))
	if testing.Verbose() {
		t.Logf("longest message (first 1,000 bytes):\n%s", got.sample[:min(len(got.sample), 1000)])
	}
	if !ok {
		t.Errorf("only %d of %d alerts named within %s", len(got.named), total, budget)
	}
	if n := robot.rateHits.Load(); n != 0 {
		t.Errorf("the robot answered 45009 %d times", n)
	}
	c.stop(t)
	return rss
}
