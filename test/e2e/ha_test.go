package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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

// Grafana HA on the PostgreSQL queue through the built plugin (issue 20):
// a replica killed -9 while it sends, a replica started before its
// database, and health following the database down and up.

// haTakeOverBound is the take-over bound the README states: a replica's
// death releases what it held (running jobs, texts its lanes held) within
// this time. The defaults are a heartbeat every 2 s and a replica silent
// for 10 s declared dead.
const haTakeOverBound = 30 * time.Second

// slowRobot puts a proxy in front of a robot that holds every request for
// delay before passing it on, so that a replica killed at any moment has
// sends in flight.
func slowRobot(t *testing.T, target string, delay time.Duration) string {
	var d atomic.Int64
	d.Store(int64(delay))
	return slowRobotVar(t, target, &d)
}

// slowRobotVar is slowRobot with a delay the test may change.
func slowRobotVar(t *testing.T, target string, delay *atomic.Int64) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// firstNamed is when the robot first accepted a message naming each alert
// instance.
func firstNamed(robot *fakewecom.Server) map[string]time.Time {
	out := map[string]time.Time{}
	for _, m := range robot.Accepted() {
		var body struct {
			Markdown struct{ Content string } `json:"markdown"`
			Text     struct{ Content string } `json:"text"`
		}
		_ = json.Unmarshal(m.Body, &body)
		for _, x := range instanceRE.FindAllString(body.Markdown.Content+body.Text.Content, -1) {
			if _, ok := out[x]; !ok {
				out[x] = m.At
			}
		}
	}
	return out
}

// repeatedMessages counts the messages a robot accepted that named an
// alert an earlier message had named (a text or a digest sent twice, or a
// digest that took in an alert already sent).
func repeatedMessages(robot *fakewecom.Server) int {
	seen := map[string]bool{}
	n := 0
	for _, m := range wecomMessages(robot) {
		again := false
		names := instanceRE.FindAllString(m.Text, -1)
		for _, x := range names {
			again = again || seen[x]
		}
		for _, x := range names {
			seen[x] = true
		}
		if again {
			n++
		}
	}
	return n
}

// haAck is when, and by which replica, an alert was acknowledged.
type haAck struct {
	at time.Time
	by int
}

// paced sends alerts from..to-1 of every organisation, interleaved, one
// every `every`, from four senders round-robin over the replicas in
// `replicas`, retrying on another replica what is not answered 200 (as
// Alertmanager retries). onAck runs after each acknowledgement with how many
// were acknowledged so far.
func (f *orgFleet) paced(t *testing.T, from, to int, every time.Duration, replicas []int, onAck func(int64)) map[string]haAck {
	t.Helper()
	type job struct {
		org int64
		i   int
	}
	jobs := make(chan job)
	var (
		mu     sync.Mutex
		acks   = map[string]haAck{}
		n      atomic.Int64
		failed atomic.Value
		wg     sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			try := w
			for j := range jobs {
				if failed.Load() != nil {
					continue
				}
				by := -1
				ok := waitUntil(30*time.Second, func() bool {
					try++
					r := replicas[try%len(replicas)]
					var ans struct{ Status string }
					st, err := orgPost(http.MethodPost, f.bases[r]+"webhook/ops", amToken(j.org), orgPayload(j.org, j.i), &ans)
					if err == nil && st == http.StatusOK && ans.Status == "accepted" {
						by = r
						return true
					}
					return false
				})
				if !ok {
					failed.Store(fmt.Sprintf("org %d alert %d was not accepted within 30s", j.org, j.i))
					continue
				}
				mu.Lock()
				acks[orgInstance(j.org, j.i)] = haAck{at: time.Now(), by: by}
				mu.Unlock()
				if onAck != nil {
					onAck(n.Add(1))
				}
			}
		}()
	}
	tick := time.NewTicker(every)
	for i := from; i < to; i++ {
		for _, org := range f.orgs {
			<-tick.C
			jobs <- job{org, i}
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		t.Fatal(msg)
	}
	return acks
}

// rateWait is how much of [from, to) the robot's window was full: at
// least limit-1 messages accepted within the window before that moment
// (the send a kill cut took a slot of the plugin's window that the robot
// may never have seen; a second of margin for the slot being taken before
// the robot accepted the message). Meanwhile nothing could be sent to the
// robot: an alert waiting then waits for the rate limit, not for a
// take-over. Sampled every 100 ms.
func rateWait(accepted []time.Time, from, to time.Time, limit int, window time.Duration) time.Duration {
	if limit <= 1 {
		return 0
	}
	const step = 100 * time.Millisecond
	var full time.Duration
	for at := from; at.Before(to); at = at.Add(step) {
		n := 0
		for _, x := range accepted {
			if !x.After(at) && x.After(at.Add(-window-time.Second)) {
				n++
			}
		}
		if n >= limit-1 {
			full += step
		}
	}
	return full
}

// TestHAKillReplicaWhileSending runs two plugin processes on one
// PostgreSQL queue with three organisations, a WeCom robot each, webhooks
// round-robin over both replicas, and kills replica 0 with SIGKILL a third
// of the way through while it sends:
//   - organisations 1 and 3 send at the real 20 a minute
//     (rateLimitPerMinute 20; River jobs, storm digests owned by either
//     replica), the robot answering after 50 ms;
//   - organisation 2 sends through the replicas' lanes (6000 a minute), its
//     robot answering after 200 ms.
//
// Then every alert replica 1 acknowledged after the kill is named by its
// robot within the take-over bound plus the robot's rate-limit wait (the
// time its window was full meanwhile, see rateWait); every alert still
// unsent at the kill is named within the bound (plus rate-limit wait) of
// the kill;
// 0 lost; at most one repeated message per robot (a text, or a digest the
// dead replica sent but had not recorded); replica 0 restarted on the
// same queue repeats nothing. Organisation 2's robot stalls for the 1.5 s
// before the kill, so that replica 0's lane holds texts when it dies. The
// measured times are logged.
func TestHAKillReplicaWhileSending(t *testing.T) {
	pg := services.StartPostgres(t)
	orgs := []int64{1, 2, 3}
	limits := map[int64]int{1: 20, 2: 6000, 3: 20}
	delays := map[int64]*atomic.Int64{1: {}, 2: {}, 3: {}}
	delays[1].Store(int64(50 * time.Millisecond))
	delays[2].Store(int64(200 * time.Millisecond))
	delays[3].Store(int64(50 * time.Millisecond))
	const window = 61 * time.Second // the plugin's rate window (delivery.Config.RateWindow)
	f := startFleetWith(t, orgs, 2, func(org int64, robot *fakewecom.Server) pluginhost.Settings {
		return orgSettingsAt(org, slowRobotVar(t, robot.URL, delays[org]), limits[org], pg, "en")
	})
	const perOrg, restartAlerts = 80, 10
	total := int64(perOrg * len(orgs))
	var killedAt time.Time
	var killErr error
	var killOnce sync.Once
	acks := f.paced(t, 0, perOrg, 50*time.Millisecond, []int{0, 1}, func(n int64) {
		switch n {
		case total/3 - 30:
			// Organisation 2's robot stalls for the 1.5 s before the
			// kill: replica 0's lane holds its texts when it dies.
			delays[2].Store(int64(time.Second))
		case total / 3:
			killOnce.Do(func() {
				killedAt = time.Now()
				killErr = f.hosts[0].HardKill()
				delays[2].Store(int64(200 * time.Millisecond))
			})
		}
	})
	if killErr != nil {
		t.Fatal(killErr)
	}
	if killedAt.IsZero() {
		t.Fatal("replica 0 was never killed")
	}
	missing := func(upTo int) (n int) {
		for _, org := range orgs {
			got := named(f.robots[org])
			for i := range upTo {
				if got[orgInstance(org, i)] == 0 {
					n++
				}
			}
		}
		return n
	}
	if !waitUntil(3*time.Minute, func() bool { return missing(perOrg) == 0 }) {
		t.Fatalf("%d alerts were never named by their robot", missing(perOrg))
	}

	type worst struct {
		late, wait time.Duration // named this long after its deadline's start, of which wait was the robot's rate limit
		inst       string
	}
	var (
		afterKill, beforeKill, pendingAtKill int
		heldByDead                           int // unsent at the kill, acknowledged by replica 0
		worstAfter, worstHeld                worst
		repeatsByRobot                       = map[int64]int{} // repeated messages
		repeatedAlerts                       = map[int64]int{}
		messagesByRobot                      = map[int64]int{}
	)
	for _, org := range orgs {
		var accepted []time.Time
		for _, m := range f.robots[org].Accepted() {
			accepted = append(accepted, m.At)
		}
		first := firstNamed(f.robots[org])
		for i := range perOrg {
			inst := orgInstance(org, i)
			a, at := acks[inst], first[inst]
			var from time.Time
			var w *worst
			switch {
			case a.at.After(killedAt) && a.by == 1:
				afterKill++
				from, w = a.at, &worstAfter
			case a.at.Before(killedAt):
				beforeKill++
				if at.Before(killedAt) {
					continue
				}
				pendingAtKill++
				if a.by == 0 {
					heldByDead++
				}
				from, w = killedAt, &worstHeld
			default:
				continue
			}
			wait := rateWait(accepted, from, at, limits[org], window)
			if late := at.Sub(from) - wait; late > w.late {
				*w = worst{late: late, wait: wait, inst: inst}
			}
		}
		for _, c := range named(f.robots[org]) {
			repeatedAlerts[org] += c - 1
		}
		repeatsByRobot[org] = repeatedMessages(f.robots[org])
		messagesByRobot[org] = len(accepted)
	}
	t.Logf("HA kill -9: %d alerts, %d acknowledged before the kill (%d still unsent at it, %d of them acknowledged by replica 0), %d by the survivor after it; "+
		"acknowledged by the survivor after the kill → named: worst %s beyond the robot's rate-limit wait (%s, %s); "+
		"unsent at the kill → named: worst %s after the kill beyond the rate-limit wait (%s, %s); "+
		"repeated messages per robot %v (alerts named again %v); messages per robot %v",
		total, beforeKill, pendingAtKill, heldByDead, afterKill,
		worstAfter.late.Round(time.Millisecond), worstAfter.wait.Round(time.Millisecond), worstAfter.inst,
		worstHeld.late.Round(time.Millisecond), worstHeld.wait.Round(time.Millisecond), worstHeld.inst,
		repeatsByRobot, repeatedAlerts, messagesByRobot)
	if afterKill == 0 || heldByDead == 0 {
		t.Fatal("the test needs replica 0 to die with texts unsent and the survivor to acknowledge alerts after the kill")
	}
	if worstAfter.late > haTakeOverBound {
		t.Errorf("alert %s acknowledged by the survivor after the kill was named %s beyond the rate-limit wait %s, over the %s bound",
			worstAfter.inst, worstAfter.late, worstAfter.wait, haTakeOverBound)
	}
	if worstHeld.late > haTakeOverBound {
		t.Errorf("alert %s unsent at the kill was named %s after it beyond the rate-limit wait %s, over the %s bound",
			worstHeld.inst, worstHeld.late, worstHeld.wait, haTakeOverBound)
	}
	for org, r := range repeatsByRobot {
		if r > 1 {
			t.Errorf("org %d's robot got %d repeated messages for one crash, want at most 1", org, r)
		}
	}

	// Replica 0 comes back on the same queue and takes webhooks: it sends
	// its own alerts and repeats nothing already named.
	restarted := len(f.bases)
	f.startReplica(t, "replica 0 (restarted)")
	f.paced(t, perOrg, perOrg+restartAlerts, 20*time.Millisecond, []int{restarted}, nil)
	if !waitUntil(3*time.Minute, func() bool { return missing(perOrg+restartAlerts) == 0 }) {
		t.Fatalf("%d alerts sent to the restarted replica were never named", missing(perOrg+restartAlerts))
	}
	time.Sleep(5 * time.Second) // anything it would repeat has had time to go out
	for _, org := range orgs {
		if r := repeatedMessages(f.robots[org]); r != repeatsByRobot[org] {
			t.Errorf("org %d's robot: %d repeated messages after the restart, %d before it: the restarted replica repeated", org, r, repeatsByRobot[org])
		}
	}
	f.check(t, perOrg+restartAlerts)
}

// haHealth is the queue check of a CheckHealth through the host.
func haHealth(t *testing.T, h *pluginhost.Host) (pluginv2.CheckHealthResponse_HealthStatus, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := h.CheckHealth(ctx)
	if err != nil {
		return pluginv2.CheckHealthResponse_UNKNOWN, err.Error()
	}
	var details struct {
		Checks []struct{ Name, Status, Message, Code string }
	}
	_ = json.Unmarshal(res.JsonDetails, &details)
	for _, c := range details.Checks {
		if c.Name == "queue" {
			return res.Status, fmt.Sprintf("%s %s: %s | %s", c.Status, c.Code, c.Message, res.Message)
		}
	}
	return res.Status, res.Message + " " + string(res.JsonDetails)
}

// TestHAPostgresOutages runs a replica against a PostgreSQL that is down
// when it starts, then comes up, goes down under it and comes back (the
// DSN carries a password, which must never show):
//   - before PostgreSQL is up, webhooks answer 503 with a reason, health is
//     ERROR;
//   - webhooks are accepted within 10 s of PostgreSQL coming up, without a
//     settings save or restart, and health is OK;
//   - with PostgreSQL stopped under the running replica, health is ERROR
//     and webhooks 503; OK and 200 again within seconds of it coming back;
//   - every alert answered 200 is named by the robot, also those the lane
//     still held when PostgreSQL stopped (the robot answers after 300 ms).
func TestHAPostgresOutages(t *testing.T) {
	pg := services.StartPostgres(t)
	const password = "s3cret-pw"
	dsn := strings.Replace(pg.DSN, "postgres@", "postgres:"+password+"@", 1)
	pg.Stop()
	// Organisation 1 sends through the lane (6000 a minute), organisation
	// 2 through River jobs (20 a minute); slow robots: texts are in hand
	// when PostgreSQL stops.
	limits := map[int64]int{1: 6000, 2: 20}
	f := startFleetWith(t, []int64{1, 2}, 1, func(org int64, robot *fakewecom.Server) pluginhost.Settings {
		s := orgSettingsAt(org, slowRobot(t, robot.URL, 300*time.Millisecond), limits[org], pg, "en")
		s.Secure["postgresDsn"] = dsn
		return s
	})
	h, base := f.hosts[0], f.bases[0]
	nexts := map[int64]int{1: 0, 2: 0}
	// post sends the next alert of each organisation (one that is ahead
	// after a partial failure waits for the other): the worst answer.
	post := func() (int, string) {
		low := min(nexts[1], nexts[2])
		for _, org := range []int64{1, 2} {
			if nexts[org] > low {
				continue
			}
			var ans struct{ Status, Error, Message string }
			st, err := orgPost(http.MethodPost, base+"webhook/ops", amToken(org), orgPayload(org, nexts[org]), &ans)
			if err != nil {
				return 0, err.Error()
			}
			if st != http.StatusOK {
				return st, ans.Error + ans.Message
			}
			nexts[org]++
		}
		return http.StatusOK, ""
	}
	noSecret := func(what, s string) {
		t.Helper()
		if strings.Contains(s, password) || strings.Contains(s, dsn) {
			t.Errorf("%s shows the credentials: %s", what, s)
		}
	}

	// 1. Started before PostgreSQL.
	st, reason := post()
	t.Logf("before PostgreSQL: webhook %d %q", st, reason)
	if st != http.StatusServiceUnavailable || !strings.Contains(reason, "queue") {
		t.Fatalf("webhook before PostgreSQL is up: %d %q, want 503 naming the queue", st, reason)
	}
	noSecret("the webhook's answer", reason)
	hs, msg := haHealth(t, h)
	t.Logf("before PostgreSQL: health %s: %s", hs, msg)
	if hs != pluginv2.CheckHealthResponse_ERROR {
		t.Errorf("health before PostgreSQL is up: %s %s", hs, msg)
	}
	noSecret("health", msg)

	time.Sleep(4 * time.Second) // a few failed attempts: the retry is at its longest wait
	pg.Start()
	up := time.Now()
	var reconnect time.Duration
	if !waitUntil(30*time.Second, func() bool { st, _ := post(); return st == http.StatusOK }) {
		t.Fatal("webhooks still refused 30 s after PostgreSQL came up")
	}
	reconnect = time.Since(up)
	hs, msg = haHealth(t, h)
	t.Logf("PostgreSQL up: first webhook accepted %s later; health %s: %s", reconnect.Round(time.Millisecond), hs, msg)
	if reconnect > 10*time.Second {
		t.Errorf("first webhook accepted %s after PostgreSQL came up, want within 10 s", reconnect)
	}
	if hs != pluginv2.CheckHealthResponse_OK {
		t.Errorf("health with PostgreSQL up: %s %s", hs, msg)
	}
	for range 5 {
		if st, reason := post(); st != http.StatusOK {
			t.Fatalf("webhook with PostgreSQL up: %d %s", st, reason)
		}
	}

	// 2. PostgreSQL stops under the running replica.
	pg.Stop()
	down := time.Now()
	if !waitUntil(30*time.Second, func() bool { hs, msg = haHealth(t, h); return hs == pluginv2.CheckHealthResponse_ERROR }) {
		t.Fatalf("health with PostgreSQL stopped: %s %s", hs, msg)
	}
	t.Logf("PostgreSQL stopped: health ERROR after %s: %s", time.Since(down).Round(time.Millisecond), msg)
	noSecret("health", msg)
	st, reason = post()
	t.Logf("PostgreSQL stopped: webhook %d %q", st, reason)
	if st != http.StatusServiceUnavailable {
		t.Errorf("webhook with PostgreSQL stopped: %d %q, want 503", st, reason)
	}
	noSecret("the webhook's answer", reason)

	time.Sleep(3 * time.Second)
	pg.Start()
	up = time.Now()
	if !waitUntil(30*time.Second, func() bool { hs, msg = haHealth(t, h); return hs == pluginv2.CheckHealthResponse_OK }) {
		t.Fatalf("health 30 s after PostgreSQL came back: %s %s", hs, msg)
	}
	healthOK := time.Since(up)
	if !waitUntil(30*time.Second, func() bool { st, _ := post(); return st == http.StatusOK }) {
		t.Fatal("webhooks still refused 30 s after PostgreSQL came back")
	}
	accepted := time.Since(up)
	t.Logf("PostgreSQL back: health OK after %s, first webhook accepted after %s", healthOK.Round(time.Millisecond), accepted.Round(time.Millisecond))
	if healthOK > 10*time.Second || accepted > 10*time.Second {
		t.Errorf("health OK %s and webhooks accepted %s after PostgreSQL came back, want within 10 s", healthOK, accepted)
	}
	for range 5 {
		if st, reason := post(); st != http.StatusOK {
			t.Fatalf("webhook with PostgreSQL back: %d %s", st, reason)
		}
	}
	if nexts[1] != nexts[2] {
		if st, reason := post(); st != http.StatusOK {
			t.Fatalf("webhook with PostgreSQL back: %d %s", st, reason)
		}
	}
	// What was in hand when PostgreSQL stopped goes out once it is back;
	// a send cut by the outage (sent, not recorded) may repeat once.
	allNamed := func() bool {
		for _, org := range f.orgs {
			got := named(f.robots[org])
			for i := range nexts[org] {
				if got[orgInstance(org, i)] == 0 {
					return false
				}
			}
		}
		return true
	}
	if waitUntil(90*time.Second, allNamed) {
		t.Logf("every alert named %s after PostgreSQL came back", time.Since(up).Round(time.Millisecond))
	}
	for _, org := range f.orgs {
		if r := repeatedMessages(f.robots[org]); r > 1 {
			t.Errorf("org %d's robot got %d repeated messages across the outage, want at most 1", org, r)
		}
	}
	f.check(t, nexts[1])
}
