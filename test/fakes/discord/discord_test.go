package discord

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

func multipartBody(payload string, files map[string][]byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	w, _ := mw.CreatePart(h)
	w.Write([]byte(payload))
	i := 0
	for name, data := range files {
		w, _ := mw.CreateFormFile("files["+string(rune('0'+i))+"]", name)
		w.Write(data)
		i++
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestWebhookContract(t *testing.T) {
	s := New()
	defer s.Close()
	post := func(url, ct string, body *bytes.Buffer) int {
		resp, err := http.Post(url, ct, body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	embed := `{"embeds":[{"title":"t","description":"d","image":{"url":"attachment://chart.png"}}]}`
	body, ct := multipartBody(embed, map[string][]byte{"chart.png": []byte("png")})
	if st := post(s.WebhookURL(), ct, body); st != 204 {
		t.Fatalf("good: %d", st)
	}
	body, ct = multipartBody(embed, map[string][]byte{"other.png": []byte("png")})
	if st := post(s.WebhookURL()+"?wait=true", ct, body); st != 400 {
		t.Fatalf("missing attachment: %d", st)
	}
	if st := post(s.URL+"/api/webhooks/1234567890/nope", "application/json", bytes.NewBufferString(`{"content":"x"}`)); st != 401 {
		t.Fatalf("bad token: %d", st)
	}
	if st := post(s.URL+"/api/webhooks/999/fake-token", "application/json", bytes.NewBufferString(`{"content":"x"}`)); st != 404 {
		t.Fatalf("unknown webhook: %d", st)
	}
	if st := post(s.WebhookURL(), "application/json", bytes.NewBufferString(`{"embeds":[{"description":"`+strings.Repeat("a", DescriptionMax+1)+`"}]}`)); st != 400 {
		t.Fatalf("description too long: %d", st)
	}
	st := 0
	for i := 0; i < Bucket; i++ {
		st = post(s.WebhookURL(), "application/json", bytes.NewBufferString(`{"content":"x"}`))
	}
	if st != 429 {
		t.Fatalf("rate: %d", st)
	}
}
