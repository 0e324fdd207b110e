package wecom

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, body string) (int, int) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ ErrCode int }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r.ErrCode
}

func TestContract(t *testing.T) {
	s := New()
	defer s.Close()
	png := "\x89PNG\r\n\x1a\nrest"
	sum := md5.Sum([]byte(png))
	b64 := base64.StdEncoding.EncodeToString([]byte(png))
	cases := []struct {
		url, body string
		code      int
	}{
		{s.WebhookURL(), `{"msgtype":"markdown","markdown":{"content":"hi"}}`, 0},
		{s.URL + "/cgi-bin/webhook/send?key=nope", `{"msgtype":"markdown","markdown":{"content":"hi"}}`, 93000},
		{s.WebhookURL(), `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("字", 1366) + `"}}`, 45002},
		{s.WebhookURL(), `{"msgtype":"text","text":{"content":"` + strings.Repeat("a", 2049) + `"}}`, 45002},
		{s.WebhookURL(), `{"msgtype":"markdown","markdown":{"content":""}}`, 44004},
		{s.WebhookURL(), `{"msgtype":"image","image":{"base64":"` + b64 + `","md5":"` + hex.EncodeToString(sum[:]) + `"}}`, 0},
		{s.WebhookURL(), `{"msgtype":"image","image":{"base64":"` + b64 + `","md5":"00"}}`, 40007},
		{s.WebhookURL(), `{"msgtype":"image","image":{"base64":"` + base64.StdEncoding.EncodeToString([]byte("GIF89a")) + `","md5":"` + fmt.Sprintf("%x", md5.Sum([]byte("GIF89a"))) + `"}}`, 40005},
		{s.WebhookURL(), `{"msgtype":"voice"}`, 40008},
		{s.WebhookURL(), `not json`, 40035},
	}
	for i, c := range cases {
		status, code := post(t, c.url, c.body)
		if status != 200 || code != c.code {
			t.Errorf("case %d: HTTP %d errcode %d, want 200/%d", i, status, code, c.code)
		}
	}
	if n := len(s.Accepted()); n != 2 {
		t.Errorf("accepted %d", n)
	}
}

func TestRateLimitCountsFailuresAndSlides(t *testing.T) {
	s := New()
	defer s.Close()
	now := time.Now()
	s.Now = func() time.Time { return now }
	for i := 0; i < PerMinute; i++ {
		post(t, s.WebhookURL(), `{"msgtype":"voice"}`) // failures count too
	}
	if _, code := post(t, s.WebhookURL(), `{"msgtype":"markdown","markdown":{"content":"x"}}`); code != 45009 {
		t.Fatalf("21st: %d", code)
	}
	now = now.Add(61 * time.Second)
	if _, code := post(t, s.WebhookURL(), `{"msgtype":"markdown","markdown":{"content":"x"}}`); code != 0 {
		t.Fatalf("after a minute: %d", code)
	}
}
