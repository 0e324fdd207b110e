package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
)

// TestPluginKillAndRestartDelivers holds the durability promise against a
// crash: 200 webhooks go through Grafana's resource route, the plugin
// process is SIGKILLed half-way (no Dispose, sends cut wherever they are), a
// new process starts on the same GF_PLUGIN_DATA_DIR and Grafana creates the
// instance lazily on the next call. Every alert answered 200 reaches the
// WeCom robot at least once; webhooks that failed while the plugin was down
// are retried as Alertmanager does (a persisted one is then recognised as a
// duplicate); at most 0.1 % + 1 messages are repeats.
func TestPluginKillAndRestartDelivers(t *testing.T) {
	const n = 200
	robot := fakewecom.New()
	t.Cleanup(robot.Close)
	// The robot still enforces 20 messages a minute, on a virtual clock
	// that advances 3.1 s per request, as if the storm were spread over
	// minutes: this test is about surviving a crash, and a robot limit met
	// in wall time would pause the channel for a real minute (45009; rate
	// limiting and digests are covered by pkg/delivery's storm tests). The
	// channel's rateLimitPerMinute lifts the plugin's own limiter to match.
	var ticks atomic.Int64
	epoch := time.Now()
	robot.Now = func() time.Time { return epoch.Add(time.Duration(ticks.Add(1)) * 3100 * time.Millisecond) }

	dataDir := t.TempDir()
	settings := pluginhost.Settings{
		JSONData: []byte(fmt.Sprintf(`{
			"chart": {"language": "en"},
			"channels": [{"name": "ops-wecom", "type": "wecom", "apiUrl": %q, "rateLimitPerMinute": 6000, "disableChart": true}],
			"routes": [{"receiver": "ops", "channels": ["ops-wecom"]}]
		}`, robot.URL)),
		Secure: map[string]string{"channels.ops-wecom.url": wecomRobotURL},
	}
	instance := func(i int) string { return fmt.Sprintf("storm-%03d:9100", i) }
	startsAt := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	payload := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{instance=\"%[1]s\"}",
			"groupLabels":{"instance":%[1]q},"commonLabels":{"alertname":"StormTest","instance":%[1]q},
			"externalURL":"http://alertmanager.example:9093","alerts":[{"status":"firing","fingerprint":"%016[2]x",
			"labels":{"alertname":"StormTest","instance":%[1]q,"severity":"warning"},
			"annotations":{"summary":"storm alert %[2]d"},"startsAt":%[3]q,"endsAt":"0001-01-01T00:00:00Z",
			"generatorURL":"http://prometheus.example:9090/graph?g0.expr=up+%%3D%%3D+0&g0.tab=1"}]}`, instance(i), i, startsAt))
	}

	began := time.Now()
	first, baseA := launch(t, "plugin (killed)", dataDir, settings)

	// Post the storm with 4 concurrent senders (Alertmanager's webhook
	// integration sends notifications of different groups in parallel).
	status := make([]int, n)
	var accepted atomic.Int64
	var killOnce sync.Once
	var killErr error
	killedAt := -1
	var killMu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var ans struct {
					Status string `json:"status"`
				}
				st, err := call(http.MethodPost, baseA+"webhook/ops", payload(i), &ans)
				if err != nil {
					st = 0
				}
				if st == http.StatusOK && ans.Status != "accepted" {
					st = -1
				}
				status[i] = st
				if st == http.StatusOK && accepted.Add(1) == n/2 {
					killOnce.Do(func() {
						killErr = first.HardKill()
						killMu.Lock()
						killedAt = i
						killMu.Unlock()
					})
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if killErr != nil {
		t.Fatal(killErr)
	}
	if killedAt < 0 {
		t.Fatalf("the plugin was never killed (%d accepted)", accepted.Load())
	}
	var acceptedBeforeKill, failedDuringKill []int
	for i, st := range status {
		switch st {
		case http.StatusOK:
			acceptedBeforeKill = append(acceptedBeforeKill, i)
		case http.StatusInternalServerError, http.StatusServiceUnavailable, 0:
			failedDuringKill = append(failedDuringKill, i)
		default:
			t.Fatalf("webhook %d answered %d", i, st)
		}
	}
	sentBeforeKill := len(robot.Accepted())
	t.Logf("killed after %d accepted webhooks (%d messages already sent); %d webhooks failed while it was down",
		len(acceptedBeforeKill), sentBeforeKill, len(failedDuringKill))
	if len(failedDuringKill) == 0 {
		t.Fatalf("no webhook failed: the kill did not happen mid-storm")
	}

	// A new process on the same data directory. Grafana creates the app
	// instance on the first call: Alertmanager's retries of what failed.
	second, baseB := launch(t, "plugin (restarted)", dataDir, settings)
	dups := 0
	for _, i := range failedDuringKill {
		var ans struct {
			Status     string `json:"status"`
			Duplicates int    `json:"duplicates"`
		}
		var st int
		var err error
		ok := waitUntil(30*time.Second, func() bool {
			st, err = call(http.MethodPost, baseB+"webhook/ops", payload(i), &ans)
			return err == nil && st == http.StatusOK
		})
		if !ok {
			t.Fatalf("retry of webhook %d after restart: %d %v", i, st, err)
		}
		dups += ans.Duplicates
	}
	t.Logf("retried %d webhooks after restart; %d were already persisted (duplicates)", len(failedDuringKill), dups)

	// Every alert reaches the robot.
	counts := make([]int, n)
	var msgs []wecomMessage
	countAll := func() int {
		msgs = wecomMessages(robot)
		for i := range counts {
			counts[i] = 0
		}
		for _, m := range msgs {
			for i := range counts {
				if strings.Contains(m.Text, instance(i)) {
					counts[i]++
				}
			}
		}
		missing := 0
		for _, c := range counts {
			if c == 0 {
				missing++
			}
		}
		return missing
	}
	if !waitUntil(45*time.Second, func() bool { return countAll() == 0 }) {
		var lost []string
		for i, c := range counts {
			if c == 0 {
				lost = append(lost, fmt.Sprintf("%d(http %d)", i, status[i]))
			}
		}
		deliveries, err := listDeliveries(baseB)
		t.Fatalf("%d alerts never reached the robot: %v\n%d messages; %d deliveries listed (%v): %s\nmessages:\n%.3000s",
			len(lost), lost, len(msgs), len(deliveries), err, summarise(deliveries), dumpMessages(msgs))
	}
	repeats := 0
	for i, c := range counts {
		repeats += c - 1
		if c > 1 {
			t.Logf("%s was sent %d times (webhook answered %d before the kill)", instance(i), c, status[i])
		}
	}
	allowed := n/1000 + 1 // 0.1 % + 1
	t.Logf("%d alerts delivered in %d messages, %d repeats, %s in total", n, len(msgs), repeats, time.Since(began).Round(time.Millisecond))
	if repeats > allowed {
		t.Fatalf("%d repeated alerts, more than %d", repeats, allowed)
	}
	// The restarted instance reports a healthy queue.
	hr, err := second.CheckHealth(context.Background())
	if err != nil || hr.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(string(hr.JsonDetails), "delivery queue open") {
		t.Fatalf("health after restart: %v %v", hr, err)
	}
	// No message was refused by the robot's limit (errcode 45009 would have
	// been retried and still show in the records as attempts).
	deliveries, err := listDeliveries(baseB)
	if err != nil {
		t.Fatal(err)
	}
	// One record per accepted webhook: the retried duplicates have their
	// own records, marked deduplicated rather than sent again.
	if len(deliveries) != n+dups {
		t.Fatalf("%d delivery records, want %d + %d duplicates", len(deliveries), n, dups)
	}
	deduplicated := 0
	for _, d := range deliveries {
		for _, c := range d.Channels {
			if c.Status == "deduplicated" {
				deduplicated++
			}
		}
	}
	if deduplicated != dups {
		t.Fatalf("%d channel outcomes deduplicated, want %d: %s", deduplicated, dups, summarise(deliveries))
	}
	for _, d := range deliveries {
		if d.Status == "failed" {
			t.Fatalf("delivery failed: %+v", d)
		}
	}
}

// summarise counts deliveries by status and channel outcome, for failures.
func summarise(ds []Delivery) string {
	counts := map[string]int{}
	for _, d := range ds {
		key := d.Status
		for _, c := range d.Channels {
			key += " / " + c.Status + " " + c.LastError
		}
		counts[key]++
	}
	return fmt.Sprint(counts)
}
