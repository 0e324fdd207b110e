package webhook

import (
	"net/http"
	"strings"
	"testing"
)

func TestReceiverRejectsUnsignedAndUnknownFields(t *testing.T) {
	s := New()
	defer s.Close()
	post := func(body, sig, tok string) int {
		req, _ := http.NewRequest("POST", s.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-AlertChart-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body := `{"version":"1","text":"x","alertmanager":{}}`
	if st := post(body, "sha256=00", s.Token); st != 403 {
		t.Fatalf("bad signature: %d", st)
	}
	if st := post(body, "", "nope"); st != 401 {
		t.Fatalf("bad token: %d", st)
	}
	s.Secret = ""
	if st := post(`{"version":"1","text":"x","alertmanager":{},"extra":1}`, "", s.Token); st != 400 {
		t.Fatalf("unknown field: %d", st)
	}
	if st := post(body, "", s.Token); st != 204 {
		t.Fatalf("good: %d", st)
	}
}
