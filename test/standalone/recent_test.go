package standalone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
)

// TestStandaloneRecentSurvivesRestart: GET /recent is read from the queue,
// so the standalone server restarted with changed settings on the same
// data directory lists the alerts the previous process received; a
// refused webhook (unknown receiver) is not among them.
func TestStandaloneRecentSurvivesRestart(t *testing.T) {
	dataDir := t.TempDir()
	config := func(lang string) string {
		return fmt.Sprintf(`
chart:
  language: %s
delivery:
  dataDir: %s
channels:
  - name: inbox
    type: inbox
    dir: %s
routes:
  - receiver: team
    channels: [inbox]
secureJsonData:
  webhookToken: ${AC_TOKEN}
`, lang, dataDir, filepath.Join(t.TempDir(), "inbox"))
	}
	send := func(t *testing.T, url, path, instance string) int {
		t.Helper()
		body := []byte(`{"version":"4","status":"firing","receiver":"team","externalURL":"http://am:9093","alerts":[{"status":"firing",
			"labels":{"alertname":"Disk","instance":"` + instance + `"},"startsAt":"2026-11-25T10:00:00Z"}]}`)
		return doJSON(t, http.MethodPost, url+path, body, nil)
	}
	recent := func(t *testing.T, url string) []string {
		t.Helper()
		var ans struct {
			Alerts []struct {
				Alert struct {
					Labels map[string]string `json:"labels"`
				} `json:"alert"`
			} `json:"alerts"`
		}
		if st := doJSON(t, http.MethodGet, url+"/recent", nil, &ans); st != http.StatusOK {
			t.Fatalf("GET /recent: %d", st)
		}
		out := []string{}
		for _, a := range ans.Alerts {
			out = append(out, a.Alert.Labels["instance"])
		}
		return out
	}
	t.Run("first process", func(t *testing.T) {
		srv := start(t, config("en"), "AC_TOKEN=s3cret-token")
		if st := send(t, srv.url, "/webhook/team", "disk-1"); st != http.StatusOK {
			t.Fatalf("webhook: %d", st)
		}
		if st := send(t, srv.url, "/webhook/nobody", "disk-2"); st != http.StatusNotFound {
			t.Fatalf("unknown receiver: %d", st)
		}
		if got := recent(t, srv.url); !slices.Equal(got, []string{"disk-1"}) {
			t.Fatalf("recent: %v", got)
		}
	})
	t.Run("restarted with new settings", func(t *testing.T) {
		srv := start(t, config("zh"), "AC_TOKEN=s3cret-token")
		if got := recent(t, srv.url); !slices.Equal(got, []string{"disk-1"}) {
			t.Fatalf("recent after the restart: %v", got)
		}
	})
}

// doJSON sends a request with the server's token and decodes the answer into v.
func doJSON(t *testing.T, method, url string, body []byte, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer s3cret-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return res.StatusCode
}
