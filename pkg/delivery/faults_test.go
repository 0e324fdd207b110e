package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

// faultServer is a chat endpoint whose first request fails in a given way.
type faultServer struct {
	srv   *httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	got   []struct {
		at   time.Time
		part string
		note string
	}
}

func newFaultServer(t *testing.T, fault string) *faultServer {
	f := &faultServer{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.calls.Add(1)
		if n == 1 {
			switch fault {
			case "500":
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			case "429":
				w.Header().Set("Retry-After", "1")
				http.Error(w, "too many requests", http.StatusTooManyRequests)
				return
			case "timeout":
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return
			case "reset":
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			}
		}
		var m struct{ Part, Note string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		f.mu.Lock()
		f.got = append(f.got, struct {
			at   time.Time
			part string
			note string
		}{time.Now(), m.Part, m.Note})
		f.mu.Unlock()
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// httpNotifier is a minimal HTTP channel that classifies errors as the
// real integrations do: 5xx, 429 and network errors are retryable, 429
// carries Retry-After.
type httpNotifier struct {
	name, url string
}

func (h *httpNotifier) Name() string            { return h.name }
func (h *httpNotifier) Type() string            { return "webhook" }
func (h *httpNotifier) Limits() channels.Limits { return channels.Limits{} }
func (h *httpNotifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	b, _ := json.Marshal(map[string]string{"part": string(m.Part), "note": m.ChartNote})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, &channels.Error{Kind: channels.Retryable, Msg: "request failed", Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	res := &channels.Result{StatusCode: resp.StatusCode, Body: string(body), Requests: 1}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return res, &channels.Error{Kind: channels.Retryable, StatusCode: 429, RetryAfter: time.Duration(secs) * time.Second, Msg: "rate limited"}
	case resp.StatusCode >= 500:
		return res, &channels.Error{Kind: channels.Retryable, StatusCode: resp.StatusCode, Msg: "server error"}
	case resp.StatusCode >= 400:
		return res, &channels.Error{Kind: channels.Permanent, StatusCode: resp.StatusCode, Msg: "refused"}
	}
	return res, nil
}

// TestFaultsTextWithinTwoSeconds: chat 500 / 429 (Retry-After 1 s) / a hung
// request / a reset connection, each with a charter that hangs for 30 s or
// fails outright. The text must arrive within 2 s of acceptance in every
// case (with SendTimeout 500 ms; the default is 15 s), and a note must
// follow in place of the chart.
func TestFaultsTextWithinTwoSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	faults := []string{"500", "429", "timeout", "reset"}
	charters := map[string]Charter{
		"slow charter":    &fakeCharter{delay: 30 * time.Second},
		"failing charter": &fakeCharter{err: errors.New("prometheus is down")},
	}
	for cname, charter := range charters {
		t.Run(cname, func(t *testing.T) {
			var names []string
			servers := map[string]*faultServer{}
			var ns []channels.Notifier
			for _, f := range faults {
				servers[f] = newFaultServer(t, f)
				names = append(names, "c"+f)
				ns = append(ns, &httpNotifier{name: "c" + f, url: servers[f].srv.URL})
			}
			s := testSettings(t, names...)
			svc := openTest(t, s, charter, func(c *Config) {
				c.SendTimeout = 500 * time.Millisecond
				c.ChartTimeout = 1500 * time.Millisecond
				for _, n := range ns {
					c.Notifiers[n.Name()] = n
				}
			})
			t0 := time.Now()
			if _, err := svc.Accept(context.Background(), "ops", payload(1, "x")); err != nil {
				t.Fatal(err)
			}
			for _, f := range faults {
				fs := servers[f]
				waitFor(t, 10*time.Second, f+": text and note", func() bool {
					fs.mu.Lock()
					defer fs.mu.Unlock()
					return len(fs.got) >= 2
				})
				fs.mu.Lock()
				text, note := fs.got[0], fs.got[1]
				fs.mu.Unlock()
				lat := text.at.Sub(t0)
				t.Logf("%s / chat %s: text after %s, note %q after %s", cname, f, lat.Round(time.Millisecond), note.note, note.at.Sub(t0).Round(time.Millisecond))
				if text.part != "text" || lat > 2*time.Second {
					t.Errorf("chat %s: text part %q after %s", f, text.part, lat)
				}
				if note.part != "chart" || note.note == "" {
					t.Errorf("chat %s: want a chart note, got %+v", f, note)
				}
			}
		})
	}
}
