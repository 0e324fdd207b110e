package feishu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func hook(t *testing.T, s *Server, body string) int {
	req, _ := http.NewRequest("POST", s.WebhookURL(), strings.NewReader(body))
	status, v := call(t, req)
	if status != 200 {
		t.Fatalf("HTTP %d", status)
	}
	return int(v["code"].(float64))
}

func card(ts int64, sign, extra string) string {
	return fmt.Sprintf(`{"timestamp":"%d","sign":%q,"msg_type":"interactive","card":{"schema":"2.0","header":{"title":{"tag":"plain_text","content":"告警"}},"body":{"elements":[{"tag":"markdown","content":"x"}%s]}}}`, ts, sign, extra)
}

func TestHookContract(t *testing.T) {
	s := New()
	defer s.Close()
	ts := time.Now().Unix()
	if c := hook(t, s, card(ts, Sign(ts, s.Secret), "")); c != 0 {
		t.Fatalf("good: %d", c)
	}
	if c := hook(t, s, card(ts, Sign(ts, "other"), "")); c != 19021 {
		t.Fatalf("bad sign: %d", c)
	}
	if c := hook(t, s, card(ts-7200, Sign(ts-7200, s.Secret), "")); c != 19021 {
		t.Fatalf("old ts: %d", c)
	}
	if c := hook(t, s, card(ts, Sign(ts, s.Secret), `,{"tag":"img","img_key":"img_unknown"}`)); c != 9499 {
		t.Fatalf("unknown image key: %d", c)
	}
	if c := hook(t, s, card(ts, Sign(ts, s.Secret), `,{"tag":"markdown","content":"`+strings.Repeat("a", MaxBodyBytes)+`"}`)); c != 9499 {
		t.Fatalf("over 20 KB: %d", c)
	}
	s.Keywords = []string{"值班"}
	if c := hook(t, s, card(ts, Sign(ts, s.Secret), "")); c != 19024 {
		t.Fatalf("keyword: %d", c)
	}
	s.Keywords = nil
	var c int
	for i := 0; i < PerSecond+1; i++ {
		c = hook(t, s, card(ts, Sign(ts, s.Secret), ""))
	}
	if c != 11232 {
		t.Fatalf("rate: %d", c)
	}
}

func TestImageUpload(t *testing.T) {
	s := New()
	defer s.Close()
	upload := func(tok string, data []byte) (int, map[string]any) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("image_type", "message")
		w, _ := mw.CreateFormFile("image", "chart.png")
		w.Write(data)
		mw.Close()
		req, _ := http.NewRequest("POST", s.URL+"/open-apis/im/v1/images", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		return call(t, req)
	}
	if status, v := upload("t-forged", []byte("\x89PNG\r\n\x1a\n")); status != 401 || v["code"].(float64) != 234002 {
		t.Fatalf("forged token: %d %v", status, v)
	}
	req, _ := http.NewRequest("POST", s.URL+"/open-apis/auth/v3/tenant_access_token/internal", strings.NewReader(`{"app_id":"cli_fake","app_secret":"wrong"}`))
	if _, v := call(t, req); v["code"].(float64) != 10014 {
		t.Fatalf("wrong app secret: %v", v)
	}
	req, _ = http.NewRequest("POST", s.URL+"/open-apis/auth/v3/tenant_access_token/internal", strings.NewReader(`{"app_id":"cli_fake","app_secret":"app-secret"}`))
	_, v := call(t, req)
	tok := v["tenant_access_token"].(string)
	if status, v := upload(tok, nil); status != 400 {
		t.Fatalf("empty image: %d %v", status, v)
	}
	status, v := upload(tok, []byte("\x89PNG\r\n\x1a\n0000"))
	key := v["data"].(map[string]any)["image_key"].(string)
	if status != 200 || s.Image(key) == nil {
		t.Fatalf("upload: %d %v", status, v)
	}
	ts := time.Now().Unix()
	if c := hook(t, s, card(ts, Sign(ts, s.Secret), `,{"tag":"img","img_key":"`+key+`"}`)); c != 0 {
		t.Fatalf("card with uploaded key: %d", c)
	}
}
