package slack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestWebhookAndUploadContract(t *testing.T) {
	s := New()
	defer s.Close()
	post := func(u, ct, body, auth string) (int, string) {
		req, _ := http.NewRequest("POST", u, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	if st, b := post(s.WebhookURL(), "application/json", `{"text":"hi"}`, ""); st != 200 || b != "ok" {
		t.Fatalf("%d %s", st, b)
	}
	if st, b := post(s.WebhookURL(), "application/json", `{}`, ""); st != 400 || b != "no_text" {
		t.Fatalf("%d %s", st, b)
	}
	if st, b := post(s.URL+"/services/T/B/bad", "application/json", `{"text":"x"}`, ""); st != 404 || b != "no_service" {
		t.Fatalf("%d %s", st, b)
	}
	if st, b := post(s.WebhookURL(), "application/json", `{"blocks":[{"type":"image","image_url":"ftp://x","alt_text":"a"}]}`, ""); st != 400 || b != "invalid_blocks" {
		t.Fatalf("%d %s", st, b)
	}
	form := "application/x-www-form-urlencoded"
	if _, b := post(s.URL+"/api/files.getUploadURLExternal", form, "filename=c.png&length=3", "xoxb-bad"); !strings.Contains(b, "invalid_auth") {
		t.Fatal(b)
	}
	_, b := post(s.URL+"/api/files.getUploadURLExternal", form, "filename=c.png&length=3", s.Token)
	if !strings.Contains(b, `"file_id":"F0000001"`) {
		t.Fatal(b)
	}
	if st, _ := post(s.URL+"/upload/F0000001", "image/png", "four", ""); st != 400 {
		t.Fatalf("length mismatch accepted: %d", st)
	}
	complete := url.Values{"files": {`[{"id":"F0000001"}]`}, "channel_id": {"C0123"}}.Encode()
	if _, b := post(s.URL+"/api/files.completeUploadExternal", form, complete, s.Token); !strings.Contains(b, "file_not_found") {
		t.Fatalf("completed before upload: %s", b)
	}
	post(s.URL+"/upload/F0000001", "image/png", "png", "")
	if _, b := post(s.URL+"/api/files.completeUploadExternal", form, url.Values{"files": {`[{"id":"F0000001"}]`}, "channel_id": {"C999"}}.Encode(), s.Token); !strings.Contains(b, "channel_not_found") {
		t.Fatal(b)
	}
	if _, b := post(s.URL+"/api/files.completeUploadExternal", form, complete, s.Token); !strings.Contains(b, `"ok":true`) {
		t.Fatal(b)
	}
	if p := s.Posts(); len(p) != 2 || string(p[1].File) != "png" {
		t.Fatalf("%+v", p)
	}
}
