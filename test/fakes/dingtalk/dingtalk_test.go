package dingtalk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func send(t *testing.T, u, body string) int {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ ErrCode int }
	json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	return r.ErrCode
}

func signed(s *Server, ts int64, sign string) string {
	return fmt.Sprintf("%s&timestamp=%d&sign=%s", s.WebhookURL(), ts, sign)
}

func TestSignatureKeywordsSizeAndThrottle(t *testing.T) {
	s := New()
	defer s.Close()
	now := time.Now()
	s.Now = func() time.Time { return now }
	ts := now.UnixMilli()
	good := signed(s, ts, url.QueryEscape(Sign(ts, s.Secret)))
	md := `{"msgtype":"markdown","markdown":{"title":"t","text":"告警 x"}}`
	if c := send(t, good, md); c != 0 {
		t.Fatalf("good: %d", c)
	}
	// A signature with '+' sent without URL encoding arrives as a space.
	plus := ts
	for !strings.Contains(Sign(plus, s.Secret), "+") {
		plus++
	}
	if c := send(t, signed(s, plus, Sign(plus, s.Secret)), md); c != 310000 {
		t.Fatalf("unencoded signature: %d", c)
	}
	if c := send(t, signed(s, ts, url.QueryEscape(Sign(ts, "SECother"))), md); c != 310000 {
		t.Fatalf("wrong secret: %d", c)
	}
	old := now.Add(-61 * time.Minute).UnixMilli()
	if c := send(t, signed(s, old, url.QueryEscape(Sign(old, s.Secret))), md); c != 310000 {
		t.Fatalf("old timestamp: %d", c)
	}
	if c := send(t, strings.Replace(good, "test-token", "other", 1), md); c != 300005 {
		t.Fatalf("bad token: %d", c)
	}
	s.Keywords = []string{"监控"}
	if c := send(t, good, md); c != 310000 {
		t.Fatalf("keyword: %d", c)
	}
	s.Keywords = nil
	if c := send(t, good, `{"msgtype":"markdown","markdown":{"title":"t","text":"`+strings.Repeat("a", 20000)+`"}}`); c != 460101 {
		t.Fatalf("too long: %d", c)
	}
	for i := 0; i < PerMinute-3; i++ {
		send(t, good, md)
	}
	if c := send(t, good, md); c != 130101 {
		t.Fatalf("21st: %d", c)
	}
	now = now.Add(2 * time.Minute) // still inside the 10-minute throttle
	ts = now.UnixMilli()
	if c := send(t, signed(s, ts, url.QueryEscape(Sign(ts, s.Secret))), md); c != 130101 {
		t.Fatalf("throttled: %d", c)
	}
}
