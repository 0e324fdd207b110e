package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
	"github.com/alertchart/alertchart/test/services"
)

// A Grafana with several organisations, as the plugin sees it: each
// organisation has its own app settings, its own Alertmanager service
// account (sa-<org>-alertmanager) and its own admin, and every request
// carries the caller's organisation in PluginContext.OrgID.

func amToken(org int64) string       { return fmt.Sprintf("glsa_am_org%d", org) }
func orgAdminToken(org int64) string { return fmt.Sprintf("glsa_admin_org%d", org) }

// orgFleet is the plugin processes (replicas) of one Grafana and the WeCom
// robot of each organisation.
type orgFleet struct {
	orgs     []int64
	robots   map[int64]*fakewecom.Server
	hosts    []*pluginhost.Host
	bases    []string // each replica's Grafana-like base URL
	settings map[int64]pluginhost.Settings

	bin       string
	users     map[string]*pluginv2.User
	tokenOrgs map[string]int64
}

// orgSettings routes receiver "ops" to channel "ops-wecom" — the same names
// in every organisation — whose robot is the organisation's own. The robot
// URL a user pastes is the same string everywhere; apiUrl points it at the
// organisation's fake. lang lets a test save different settings.
func orgSettings(org int64, robot *fakewecom.Server, pg *services.Postgres, lang string) pluginhost.Settings {
	return orgSettingsAt(org, robot.URL, 6000, pg, lang)
}

// orgSettingsAt is orgSettings with the robot's API address and the
// channel's rateLimitPerMinute given.
func orgSettingsAt(org int64, apiURL string, perMinute int, pg *services.Postgres, lang string) pluginhost.Settings {
	js := map[string]any{
		"chart": map[string]any{"language": lang},
		"channels": []map[string]any{{"name": "ops-wecom", "type": "wecom", "apiUrl": apiURL,
			"rateLimitPerMinute": perMinute, "disableChart": true}},
		"routes":  []map[string]any{{"receiver": "ops", "channels": []string{"ops-wecom"}}},
		"webhook": map[string]any{"allowedUsers": []string{fmt.Sprintf("sa-%d-alertmanager", org)}},
	}
	secure := map[string]string{"channels.ops-wecom.url": wecomRobotURL}
	if pg != nil {
		js["delivery"] = map[string]any{"queue": "postgres"}
		secure["postgresDsn"] = pg.DSN
	}
	b, _ := json.Marshal(js)
	return pluginhost.Settings{JSONData: b, Secure: secure}
}

// newOrgRobot is a WeCom robot fake whose 20-a-minute limit runs on a
// virtual clock (3.1 s per request), as in the restart test: these tests
// are about where alerts go, not about rate limits.
func newOrgRobot(t *testing.T) *fakewecom.Server {
	robot := fakewecom.New()
	t.Cleanup(robot.Close)
	var ticks atomic.Int64
	epoch := time.Now()
	robot.Now = func() time.Time { return epoch.Add(time.Duration(ticks.Add(1)) * 3100 * time.Millisecond) }
	return robot
}

// startFleet starts replicas plugin processes, each with every
// organisation's settings (on its own data directory; with pg they share
// the PostgreSQL queue).
func startFleet(t *testing.T, orgs []int64, replicas int, pg *services.Postgres) *orgFleet {
	t.Helper()
	return startFleetWith(t, orgs, replicas, func(org int64, robot *fakewecom.Server) pluginhost.Settings {
		return orgSettings(org, robot, pg, "en")
	})
}

// startFleetWith is startFleet with each organisation's settings made by
// settingsOf from its robot.
func startFleetWith(t *testing.T, orgs []int64, replicas int, settingsOf func(int64, *fakewecom.Server) pluginhost.Settings) *orgFleet {
	t.Helper()
	f := &orgFleet{orgs: orgs, robots: map[int64]*fakewecom.Server{}, settings: map[int64]pluginhost.Settings{},
		users: map[string]*pluginv2.User{}, tokenOrgs: map[string]int64{}}
	for _, org := range orgs {
		f.robots[org] = newOrgRobot(t)
		f.settings[org] = settingsOf(org, f.robots[org])
		f.users[amToken(org)] = &pluginv2.User{Login: fmt.Sprintf("sa-%d-alertmanager", org), Name: "alertmanager", Role: "Viewer"}
		f.users[orgAdminToken(org)] = &pluginv2.User{Login: "admin", Name: "admin", Role: "Admin"}
		f.tokenOrgs[amToken(org)], f.tokenOrgs[orgAdminToken(org)] = org, org
	}
	bin, err := pluginhost.Binary()
	if err != nil {
		t.Fatal(err)
	}
	f.bin = bin
	for r := range replicas {
		f.startReplica(t, fmt.Sprintf("replica %d", r))
	}
	return f
}

// startReplica starts one more plugin process with every organisation's
// current settings; its bridge is f.bases[len(f.bases)-1].
func (f *orgFleet) startReplica(t *testing.T, name string) *pluginhost.Host {
	t.Helper()
	logs := &lockedLog{}
	h, err := pluginhost.Start(pluginhost.Options{Binary: f.bin, Users: f.users, TokenOrgs: f.tokenOrgs, Log: logs,
		Env: []string{"GF_PLUGIN_DATA_DIR=" + t.TempDir()}}, f.settings[f.orgs[0]])
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range f.orgs[1:] {
		h.SetOrgSettings(org, f.settings[org])
	}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("---- %s log ----\n%s", name, logs.String())
		}
	})
	base, err := h.ListenAndServe()
	if err != nil {
		t.Fatal(err)
	}
	f.hosts = append(f.hosts, h)
	f.bases = append(f.bases, base+pluginhost.ResourcePrefix)
	return h
}

// orgClient gives up on a request that hangs, so that a stuck plugin fails
// the test with its log instead of running into the test binary's timeout.
var orgClient = &http.Client{Timeout: 20 * time.Second}

// orgPost sends one request to a replica with a token of the organisation.
func orgPost(method, url, token string, body []byte, v any) (int, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := orgClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if v != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			return res.StatusCode, fmt.Errorf("answer %d: %v: %.300s", res.StatusCode, err, raw)
		}
	}
	return res.StatusCode, nil
}

func orgInstance(org int64, i int) string { return fmt.Sprintf("o%d-i%04d", org, i) }

// orgPayload is one alert of organisation org, named by its instance.
func orgPayload(org int64, i int) []byte {
	inst := orgInstance(org, i)
	return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{instance=\"%[1]s\"}",
		"groupLabels":{"instance":%[1]q},"commonLabels":{"alertname":"OrgTest","instance":%[1]q},
		"externalURL":"http://alertmanager.example:9093","alerts":[{"status":"firing","fingerprint":"%02[2]x%014[3]x",
		"labels":{"alertname":"OrgTest","instance":%[1]q,"severity":"warning"},
		"annotations":{"summary":"alert %[1]s"},"startsAt":"2026-01-02T03:04:05Z","endsAt":"0001-01-01T00:00:00Z"}]}`, inst, org, i))
}

var instanceRE = regexp.MustCompile(`o(\d+)-i(\d{4})`)

// named counts, per robot, how many messages named each alert instance.
func named(robot *fakewecom.Server) map[string]int {
	out := map[string]int{}
	for _, m := range wecomMessages(robot) {
		seen := map[string]bool{}
		for _, x := range instanceRE.FindAllString(m.Text, -1) {
			if !seen[x] {
				seen[x] = true
				out[x]++
			}
		}
	}
	return out
}

// stream sends perOrg alerts of every organisation, interleaved, from four
// senders, round-robin over the replicas, retrying what is not answered 200
// as Alertmanager does. mid, when set, runs once half of them were
// acknowledged.
func (f *orgFleet) stream(t *testing.T, perOrg int, mid func()) {
	t.Helper()
	type job struct {
		org int64
		i   int
	}
	jobs := make(chan job)
	var acked atomic.Int64
	var midOnce sync.Once
	total := int64(perOrg * len(f.orgs))
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := w
			for j := range jobs {
				if failed.Load() != nil {
					continue // one alert not accepted fails the test; drain the rest
				}
				ok := waitUntil(30*time.Second, func() bool {
					n++
					var ans struct{ Status string }
					st, err := orgPost(http.MethodPost, f.bases[n%len(f.bases)]+"webhook/ops", amToken(j.org), orgPayload(j.org, j.i), &ans)
					return err == nil && st == http.StatusOK && ans.Status == "accepted"
				})
				if !ok {
					failed.Store(fmt.Sprintf("org %d alert %d was not accepted within 30s", j.org, j.i))
					continue
				}
				if acked.Add(1) == total/2 && mid != nil {
					midOnce.Do(mid)
				}
			}
		}()
	}
	for i := range perOrg {
		for _, org := range f.orgs {
			jobs <- job{org, i}
		}
	}
	close(jobs)
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		t.Fatal(msg)
	}
}

// check waits until every organisation's robot named all its alerts and
// fails on any alert lost or named by another organisation's robot; then
// every organisation's /deliveries lists exactly its own, and another
// organisation's record is not found through it.
func (f *orgFleet) check(t *testing.T, perOrg int) {
	t.Helper()
	missing := func() int {
		n := 0
		for _, org := range f.orgs {
			got := named(f.robots[org])
			for i := range perOrg {
				if got[orgInstance(org, i)] == 0 {
					n++
				}
			}
		}
		return n
	}
	if !waitUntil(90*time.Second, func() bool { return missing() == 0 }) {
		t.Errorf("%d alerts never reached their organisation's robot", missing())
	}
	cross, repeats := 0, 0
	for _, org := range f.orgs {
		for inst, c := range named(f.robots[org]) {
			if !strings.HasPrefix(inst, "o"+strconv.FormatInt(org, 10)+"-") {
				cross++
				t.Errorf("org %d's robot named %s", org, inst)
			}
			repeats += c - 1
		}
	}
	t.Logf("%d organisations × %d alerts: %d lost, %d cross-deliveries, %d repeats; messages per robot %v",
		len(f.orgs), perOrg, missing(), cross, repeats, f.messageCounts())
	var firstID string
	for _, org := range f.orgs {
		var body struct {
			Deliveries []Delivery `json:"deliveries"`
		}
		// A record is written just after its message was accepted: give
		// the last ones a moment.
		waitUntil(30*time.Second, func() bool {
			body.Deliveries = nil
			st, err := orgPost(http.MethodGet, f.bases[len(f.bases)-1]+"deliveries?limit=1000", orgAdminToken(org), nil, &body)
			if err != nil || st != http.StatusOK {
				t.Fatalf("org %d GET deliveries: %d %v", org, st, err)
			}
			for _, d := range body.Deliveries {
				if d.Status != "sent" {
					return false
				}
			}
			return len(body.Deliveries) == perOrg
		})
		if len(body.Deliveries) != perOrg {
			t.Errorf("org %d lists %d deliveries, want its %d", org, len(body.Deliveries), perOrg)
		}
		for _, d := range body.Deliveries {
			if len(d.Alerts) != 1 || !strings.HasPrefix(d.Alerts[0].Instance, "o"+strconv.FormatInt(org, 10)+"-") {
				t.Errorf("org %d lists %+v", org, d.Alerts)
			}
			if d.Status != "sent" {
				t.Errorf("org %d's delivery %s is %s: %s", org, d.ID, d.Status, summarise([]Delivery{d}))
			}
		}
		if firstID == "" && len(body.Deliveries) > 0 {
			firstID = body.Deliveries[0].ID
		} else if firstID != "" {
			// The first organisation's record is not there for this one.
			st, _ := orgPost(http.MethodGet, f.bases[len(f.bases)-1]+"deliveries/"+firstID, orgAdminToken(org), nil, nil)
			if st != http.StatusNotFound {
				t.Errorf("org %d read org %d's delivery: %d", org, f.orgs[0], st)
			}
		}
	}
}

func (f *orgFleet) messageCounts() map[int64]int {
	out := map[int64]int{}
	for org, r := range f.robots {
		out[org] = len(r.Accepted())
	}
	return out
}

// saveOrg saves new settings for an organisation on every replica (a
// save on the config page: Grafana hands every replica the new version).
func (f *orgFleet) saveOrg(org int64, s pluginhost.Settings) {
	for _, h := range f.hosts {
		h.SetOrgSettings(org, s)
	}
}

// streamPerOrg is how many alerts each of n organisations sends: at least
// 200 in all, so that the settings save in the middle of the stream is
// the test of issue 13 ("a settings save during a stream loses 0 of ≥ 200
// alerts").
func streamPerOrg(n int) int { return (200 + n - 1) / n }

// TestOrganisationsIsolated runs the built plugin for two and for three
// Grafana organisations that name their receiver and channel alike, each
// with its own WeCom robot, with interleaved traffic and organisation 2's
// settings saved in the middle of the stream: every alert reaches exactly
// its own organisation's robot (0 cross-deliveries, 0 lost) and
// /deliveries shows each organisation only its own records.
func TestOrganisationsIsolated(t *testing.T) {
	for _, orgs := range [][]int64{{1, 2}, {1, 2, 3}} {
		t.Run(fmt.Sprintf("%d orgs", len(orgs)), func(t *testing.T) {
			f := startFleet(t, orgs, 1, nil)
			perOrg := streamPerOrg(len(orgs))
			f.stream(t, perOrg, func() { f.saveOrg(2, orgSettings(2, f.robots[2], nil, "zh")) })
			f.check(t, perOrg)
		})
	}
}

// TestOrganisationsIsolatedPostgres is TestOrganisationsIsolated for three
// organisations on the PostgreSQL queue with two replicas (two plugin
// processes, webhooks round-robin over them).
func TestOrganisationsIsolatedPostgres(t *testing.T) {
	pg := services.StartPostgres(t)
	orgs := []int64{1, 2, 3}
	f := startFleet(t, orgs, 2, pg)
	perOrg := streamPerOrg(len(orgs))
	f.stream(t, perOrg, func() { f.saveOrg(2, orgSettings(2, f.robots[2], pg, "zh")) })
	f.check(t, perOrg)
}
