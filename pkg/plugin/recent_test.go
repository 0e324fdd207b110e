package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// newOrgApp builds an instance the way Grafana does for an organisation:
// its OrgID in the PluginContext of the request that creates it.
func newOrgApp(t *testing.T, org int64, jsonData string) *App {
	t.Helper()
	ctx := backend.WithPluginContext(context.Background(), backend.PluginContext{OrgID: org, PluginID: PluginID})
	inst, err := NewApp(ctx, backend.AppInstanceSettings{JSONData: []byte(jsonData), Updated: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	app := inst.(*App)
	t.Cleanup(app.Dispose)
	return app
}

func call(t *testing.T, app *App, org int64, user *backend.User, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req := &backend.CallResourceRequest{
		PluginContext: backend.PluginContext{OrgID: org, PluginID: PluginID, User: user},
		Path:          path, Method: method, URL: "/api/plugins/" + PluginID + "/resources/" + path,
		Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: body,
	}
	var res collect
	if err := app.CallResource(context.Background(), req, &res); err != nil {
		t.Fatal(err)
	}
	return res.status, res.body
}

// recentFingerprints is GET /recent's alerts, by fingerprint, newest first.
func recentFingerprints(t *testing.T, app *App, org int64) []string {
	t.Helper()
	status, body := call(t, app, org, editorUser, http.MethodGet, "recent", nil)
	var ans struct {
		Alerts []struct {
			Receiver string `json:"receiver"`
			Alert    struct {
				Fingerprint string `json:"fingerprint"`
			} `json:"alert"`
			ExternalURL string `json:"externalURL"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || status != http.StatusOK {
		t.Fatalf("GET recent (org %d): %d %s", org, status, body)
	}
	fps := []string{}
	for _, a := range ans.Alerts {
		if a.Receiver != "ops" || a.ExternalURL != "http://alertmanager:9093" {
			t.Fatalf("GET recent (org %d): %s", org, body)
		}
		fps = append(fps, a.Alert.Fingerprint)
	}
	return fps
}

var editorUser = &backend.User{Login: "editor", Name: "Editor", Role: "Editor"}

func webhookBody(fp string) []byte {
	return []byte(`{"version":"4","status":"firing","receiver":"ops","externalURL":"http://alertmanager:9093","alerts":[{"status":"firing",
		"labels":{"alertname":"HighCPU","instance":"` + fp + `"},"startsAt":"2026-11-25T10:00:00Z","fingerprint":"` + fp + `"}]}`)
}

// TestRecentSurvivesSettingsSaveAndIsPerOrg: GET /recent reads the queue
// database, not the instance's memory. A settings save (Grafana builds a new
// instance and disposes of the old one) keeps the alerts, and organisations
// sharing the queue each see only their own.
func TestRecentSurvivesSettingsSaveAndIsPerOrg(t *testing.T) {
	dir := queuetest.DataDir(t)
	settingsJSON := func(lang string) string {
		return `{"delivery":{"dataDir":"` + dir + `"},"chart":{"language":"` + lang + `"},
			"webhook":{"allowedUsers":["sa-1-alertmanager"]},
			"channels":[{"name":"box","type":"inbox","dir":"` + t.TempDir() + `"}],
			"routes":[{"receiver":"ops","channels":["box"]}]}`
	}
	before := newOrgApp(t, 1, settingsJSON("en"))
	if status, body := call(t, before, 1, amUser, http.MethodPost, "webhook/ops", webhookBody("org1-a")); status != http.StatusOK {
		t.Fatalf("webhook: %d %s", status, body)
	}
	if got := recentFingerprints(t, before, 1); !slices.Equal(got, []string{"org1-a"}) {
		t.Fatalf("recent before the save: %v", got)
	}

	// The settings are saved: a new instance, the old one disposed of.
	after := newOrgApp(t, 1, settingsJSON("zh"))
	before.Dispose()
	if got := recentFingerprints(t, after, 1); !slices.Equal(got, []string{"org1-a"}) {
		t.Fatalf("recent after the save: %v", got)
	}

	// Another organisation on the same queue sees none of org 1's alerts,
	// and org 1 none of its.
	org2 := newOrgApp(t, 2, settingsJSON("en"))
	if got := recentFingerprints(t, org2, 2); len(got) != 0 {
		t.Fatalf("org 2 sees org 1's alerts: %v", got)
	}
	if status, body := call(t, org2, 2, amUser, http.MethodPost, "webhook/ops", webhookBody("org2-a")); status != http.StatusOK {
		t.Fatalf("webhook org 2: %d %s", status, body)
	}
	if got := recentFingerprints(t, org2, 2); !slices.Equal(got, []string{"org2-a"}) {
		t.Fatalf("org 2's recent: %v", got)
	}
	if got := recentFingerprints(t, after, 1); !slices.Equal(got, []string{"org1-a"}) {
		t.Fatalf("org 1's recent after org 2's alert: %v", got)
	}

	// A Viewer may not read them.
	if status, _ := call(t, after, 1, viewerUser, http.MethodGet, "recent", nil); status != http.StatusForbidden {
		t.Fatalf("viewer: %d", status)
	}
}
