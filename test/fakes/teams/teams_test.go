package teams

import (
	"net/http"
	"strings"
	"testing"
)

func TestRunsRecordFailuresBehind202(t *testing.T) {
	s := New()
	defer s.Close()
	post := func(u, body string) int {
		resp, err := http.Post(u, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	card := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"%s"}]}}]}`
	if st := post(s.WebhookURL(), strings.Replace(card, "%s", "hi", 1)); st != 202 {
		t.Fatalf("%d", st)
	}
	if st := post(strings.Replace(s.WebhookURL(), "fake-sig", "x", 1), card); st != 401 {
		t.Fatalf("bad sig: %d", st)
	}
	post(s.WebhookURL(), strings.Replace(card, "%s", strings.Repeat("a", MaxMessageBytes), 1))
	post(s.WebhookURL(), `{"type":"message"}`)
	runs := s.Runs()
	if len(runs) != 3 || runs[0].Status != "Succeeded" || !strings.Contains(runs[1].Error, "28KB") || !strings.Contains(runs[2].Error, "Null") {
		t.Fatalf("%+v", runs)
	}
	post(s.WebhookURL(), strings.Replace(card, "%s", "x", 1))
	if st := post(s.WebhookURL(), strings.Replace(card, "%s", "x", 1)); st != http.StatusTooManyRequests || len(s.Runs()) != 4 {
		t.Fatalf("5th request in a second: %d, %d runs", st, len(s.Runs()))
	}
}
