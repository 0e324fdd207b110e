package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/test/services"
)

// recentInstances is GET /recent of one organisation on one replica: the
// alerts' instances, newest first.
func (f *orgFleet) recentInstances(t *testing.T, replica int, org int64) []string {
	t.Helper()
	var ans struct {
		Alerts []struct {
			Receiver string `json:"receiver"`
			Alert    struct {
				Labels map[string]string `json:"labels"`
			} `json:"alert"`
			ExternalURL string `json:"externalURL"`
		} `json:"alerts"`
	}
	st, err := orgPost(http.MethodGet, f.bases[replica]+"recent", orgAdminToken(org), nil, &ans)
	if err != nil || st != http.StatusOK {
		t.Fatalf("org %d GET recent on replica %d: %d %v", org, replica, st, err)
	}
	out := []string{}
	for _, a := range ans.Alerts {
		if a.Receiver != "ops" || a.ExternalURL != "http://alertmanager.example:9093" {
			t.Fatalf("org %d GET recent on replica %d: %+v", org, replica, a)
		}
		out = append(out, a.Alert.Labels["instance"])
	}
	return out
}

// TestRecentSameOnEveryReplicaAndAcrossSaves runs the built plugin as two
// replicas on one PostgreSQL queue for two organisations: GET /recent is
// read from the queue database, so both replicas answer the same list
// whichever one received the webhooks, each organisation sees only its own
// alerts, and a settings save (new app instances on every replica) keeps
// them.
func TestRecentSameOnEveryReplicaAndAcrossSaves(t *testing.T) {
	pg := services.StartPostgres(t)
	orgs := []int64{1, 2}
	f := startFleet(t, orgs, 2, pg)
	sent := map[int64]int{1: 3, 2: 2}
	for _, org := range orgs {
		for i := range sent[org] {
			replica := (i + int(org)) % 2 // alternate, so each replica receives some
			var ans struct{ Status string }
			st, err := orgPost(http.MethodPost, f.bases[replica]+"webhook/ops", amToken(org), orgPayload(org, i), &ans)
			if err != nil || st != http.StatusOK || ans.Status != "accepted" {
				t.Fatalf("org %d alert %d: %d %v %+v", org, i, st, err, ans)
			}
		}
	}
	want := func(org int64) []string {
		var out []string
		for i := sent[org] - 1; i >= 0; i-- {
			out = append(out, orgInstance(org, i))
		}
		return out
	}
	check := func(when string) {
		t.Helper()
		for _, org := range orgs {
			for replica := range f.hosts {
				if got := f.recentInstances(t, replica, org); !slices.Equal(got, want(org)) {
					t.Errorf("%s: org %d's /recent on replica %d is %v, want %v", when, org, replica, got, want(org))
				}
			}
		}
	}
	check("before the save")
	f.saveOrg(1, orgSettings(1, f.robots[1], pg, "zh"))
	check("after organisation 1's settings save")
}

// TestWebhookAnswersThroughThePlugin: intake alone decides the client
// mistakes (400, 404) before anything is stored; a channel the settings
// cannot build answers 503 naming the channel but not why (that is the
// health report's, for an Admin); and nothing refused shows in /recent.
func TestWebhookAnswersThroughThePlugin(t *testing.T) {
	f := startFleet(t, []int64{1}, 1, nil)
	base := f.bases[0]
	bad := strings.Replace(string(orgPayload(1, 9)), `"status":"firing","fingerprint"`, `"status":"burning","fingerprint"`, 1)
	for _, c := range []struct {
		name, path string
		body       []byte
		status     int
		says       string
	}{
		{"bad alert status", "webhook/ops", []byte(bad), http.StatusBadRequest, `not "burning"`},
		{"unknown receiver", "webhook/nobody", orgPayload(1, 8), http.StatusNotFound, "unknown receiver"},
	} {
		var ans struct {
			Error string `json:"error"`
		}
		st, err := orgPost(http.MethodPost, base+c.path, amToken(1), c.body, &ans)
		if err != nil || st != c.status || !strings.Contains(ans.Error, c.says) {
			t.Errorf("%s: %d %v %q", c.name, st, err, ans.Error)
		}
	}

	// The robot URL is removed from the settings: the channel cannot be built.
	broken := orgSettings(1, f.robots[1], nil, "en")
	broken.Secure = map[string]string{}
	f.saveOrg(1, broken)
	var ans struct {
		Error string `json:"error"`
	}
	st, err := orgPost(http.MethodPost, base+"webhook/ops", amToken(1), orgPayload(1, 7), &ans)
	if err != nil || st != http.StatusServiceUnavailable || !strings.Contains(ans.Error, `channel "ops-wecom" cannot be used`) ||
		strings.Contains(ans.Error, "secureJsonData") || strings.Contains(ans.Error, f.robots[1].URL) {
		t.Errorf("broken channel: %d %v %q", st, err, ans.Error)
	}

	// Fixed again: the same alert is accepted (Alertmanager's retry).
	f.saveOrg(1, orgSettings(1, f.robots[1], nil, "en"))
	var ok struct{ Status string }
	if st, err := orgPost(http.MethodPost, base+"webhook/ops", amToken(1), orgPayload(1, 7), &ok); err != nil || st != http.StatusOK {
		t.Fatalf("after the fix: %d %v", st, err)
	}
	if got := f.recentInstances(t, 0, 1); !slices.Equal(got, []string{orgInstance(1, 7)}) {
		t.Errorf("/recent shows %v, want only the accepted alert %s", got, orgInstance(1, 7))
	}
}
