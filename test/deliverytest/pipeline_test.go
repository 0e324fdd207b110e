package deliverytest

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// burst posts webhooks[i] from workers goroutines until stop says so or all
// are tried once; acked[i] records a 200. pace, when > 0, spaces the posts.
func burst(addr func() string, hooks int, workers int, pace time.Duration, acked []atomic.Bool, onAck func(n int64)) {
	var next atomic.Int64
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= hooks {
					return
				}
				if pace > 0 {
					if d := time.Until(start.Add(time.Duration(i) * pace)); d > 0 {
						time.Sleep(d)
					}
				}
				if acked[i].Load() {
					continue
				}
				d, _ := webhook(i, alertsPer)
				if ok, _ := post(addr(), d); ok {
					acked[i].Store(true)
					if onAck != nil {
						onAck(n.Add(1))
					}
				}
			}
		}()
	}
	wg.Wait()
}

var alertsPer = 2

// TestCrashMidBurst kills -9 the process running the Service in the middle of
// a 2,000-alert burst and starts it again on the same data directory, while
// the sender re-posts every webhook that got no 200, as Alertmanager does.
// Every alert must be delivered; duplicates must stay within 0.1 %.
func TestCrashMidBurst(t *testing.T) {
	alertsPer = 2
	const hooks = 1000 // × 2 alerts
	rec := newRecorder(t, 0, 0)
	dir := t.TempDir()
	cfg := childConfig{Name: "a", DataDir: dir, Recorder: rec.srv.URL}
	var cur atomic.Pointer[child]
	cur.Store(startChild(t, cfg))
	acked := make([]atomic.Bool, hooks)
	killed := make(chan struct{})
	var once sync.Once
	var killedAt time.Time
	burst(func() string { return cur.Load().addr }, hooks, 8, 0, acked, func(n int64) {
		if n == hooks/2 {
			once.Do(func() {
				cur.Load().kill9(t)
				killedAt = time.Now()
				close(killed)
			})
		}
	})
	<-killed
	before := rec.tally()
	var unacked int
	for i := range acked {
		if !acked[i].Load() {
			unacked++
		}
	}
	t.Logf("killed -9 after %d of %d webhooks were acknowledged; %d alerts delivered before the crash; %d webhooks unacknowledged",
		hooks/2, hooks, before.distinct, unacked)
	cfg.Name = "b"
	cur.Store(startChild(t, cfg))
	restart := time.Since(killedAt)
	for round := 0; ; round++ {
		burst(func() string { return cur.Load().addr }, hooks, 8, 0, acked, nil)
		all := true
		for i := range acked {
			all = all && acked[i].Load()
		}
		if all {
			break
		}
		if round > 20 {
			t.Fatal("webhooks are still refused after the restart")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var fps []string
	for i := range hooks {
		_, f := webhook(i, alertsPer)
		fps = append(fps, f...)
	}
	waitUntil(t, 90*time.Second, "every accepted alert delivered", func() bool { return rec.has(fps) == 0 })
	time.Sleep(time.Second)
	got := rec.tally()
	t.Logf("crash: %d alerts, %d distinct delivered, %d duplicates (%.3f%%), %d messages; restart took %s",
		len(fps), got.distinct, got.duplicates, 100*float64(got.duplicates)/float64(len(fps)), got.messages, restart.Round(time.Millisecond))
	if got.distinct != len(fps) {
		t.Fatalf("delivered %d of %d alerts", got.distinct, len(fps))
	}
	if got.duplicates*1000 > len(fps) {
		t.Errorf("duplicates %d exceed 0.1%% of %d", got.duplicates, len(fps))
	}
	cur.Load().stop(t)
}

// TestStormRealTime sends 10,000 alerts within 60 s for one robot limited to
// 20 messages per minute, in real time. Nothing may be lost, the robot must
// never answer 45009, and the child's peak RSS is reported.
func TestStormRealTime(t *testing.T) {
	if testing.Short() || os.Getenv("ALERTCHART_LONG") == "" {
		t.Skip("takes about 70 s: run with ALERTCHART_LONG=1 (TestStormNamed10k counts the same storm by the names in the text)")
	}
	alertsPer = 5
	const hooks = 2000 // × 5 alerts = 10,000
	rec := newRecorder(t, 20, time.Minute)
	c := startChild(t, childConfig{Name: "storm", DataDir: t.TempDir(), Recorder: rec.srv.URL, PerMinute: 20, Chart: true})
	acked := make([]atomic.Bool, hooks)
	t0 := time.Now()
	burst(func() string { return c.addr }, hooks, 8, 28*time.Millisecond, acked, nil)
	sendTime := time.Since(t0)
	for i := range acked {
		if !acked[i].Load() {
			t.Fatalf("webhook %d was not acknowledged", i)
		}
	}
	var fps []string
	for i := range hooks {
		_, f := webhook(i, alertsPer)
		fps = append(fps, f...)
	}
	waitUntil(t, 3*time.Minute, "all 10,000 alerts delivered", func() bool { return rec.has(fps) == 0 })
	done := time.Since(t0)
	rss := c.rssPeakMB()
	got := rec.tally()
	t.Logf("storm: 10,000 alerts posted in %s, all delivered after %s in %d messages (%d digests, %d charts of which %d digest overviews); "+
		"rate-limit errors %d; duplicates %d; child peak RSS %.1f MB",
		sendTime.Round(time.Millisecond), done.Round(time.Millisecond), got.messages, got.digests, got.charts, got.overviews, got.rateHits, got.duplicates, rss)
	if got.rateHits != 0 {
		t.Errorf("the robot answered 45009 %d times", got.rateHits)
	}
	if rss > 150 {
		t.Errorf("peak RSS %.1f MB exceeds 150 MB", rss)
	}
	c.stop(t)
}

// TestHAFailover runs two replicas on one PostgreSQL queue, feeds both, and
// kills -9 one of them right after its webhooks were acknowledged: the other
// must deliver its work, and together they must keep the robot's limit
// (20 messages per 5 s here, so the test stays short).
func TestHAFailover(t *testing.T) {
	dsn := startPostgres(t)
	alertsPer = 1
	const hooks = 300
	rec := newRecorder(t, 20, 5*time.Second)
	base := childConfig{PostgresDSN: dsn, Recorder: rec.srv.URL, PerMinute: 20, RateWindow: 5100 * time.Millisecond,
		JobTimeout: 5 * time.Second, RescueAfter: 6 * time.Second, Chart: true}
	ca, cb := base, base
	ca.Name, cb.Name = "a", "b"
	ca.DataDir, cb.DataDir = t.TempDir(), t.TempDir()
	a := startChild(t, ca)
	b := startChild(t, cb)
	acked := make([]atomic.Bool, hooks)
	var which atomic.Int64
	burst(func() string {
		if which.Add(1)%2 == 0 {
			return a.addr
		}
		return b.addr
	}, hooks, 6, 0, acked, nil)
	for i := range acked {
		if !acked[i].Load() {
			t.Fatalf("webhook %d was not acknowledged", i)
		}
	}
	a.kill9(t)
	killed := time.Now()
	var fps []string
	for i := range hooks {
		_, f := webhook(i, alertsPer)
		fps = append(fps, f...)
	}
	if !eventually(2*time.Minute, func() bool { return rec.has(fps) == 0 }) {
		t.Errorf("replica b did not deliver everything within 2m: %d of %d alerts missing", rec.has(fps), len(fps))
		dumpQueue(t, dsn)
		t.FailNow()
	}
	got := rec.tally()
	t.Logf("HA: %d alerts, all delivered %s after replica a was killed; messages by replica %v; %d digests; rate-limit errors %d; duplicates %d",
		len(fps), time.Since(killed).Round(time.Millisecond), got.byFrom, got.digests, got.rateHits, got.duplicates)
	if got.rateHits != 0 {
		t.Errorf("the replicas together provoked %d rate-limit errors", got.rateHits)
	}
	b.stop(t)
}

// TestHAFailoverLanes is TestHAFailover for a robot without a limit, whose
// texts PostgreSQL replicas send through their lanes: replica a is killed
// -9 with a backlog in its lane (the robot answers slowly), and replica b
// must take over every text a accepted, once their guards come due, with
// at most one message repeated (the one a was sending).
func TestHAFailoverLanes(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the guards (about 30 s)")
	}
	dsn := startPostgres(t)
	alertsPer = 1
	const hooks = 300
	rec := newRecorder(t, 0, 0)
	rec.delay = 20 * time.Millisecond
	base := childConfig{PostgresDSN: dsn, Recorder: rec.srv.URL, JobTimeout: 5 * time.Second, RescueAfter: 6 * time.Second,
		SendTimeout: time.Second}
	ca, cb := base, base
	ca.Name, cb.Name = "a", "b"
	ca.DataDir, cb.DataDir = t.TempDir(), t.TempDir()
	a := startChild(t, ca)
	b := startChild(t, cb)
	acked := make([]atomic.Bool, hooks)
	burst(func() string { return a.addr }, hooks, 6, 0, acked, nil)
	for i := range acked {
		if !acked[i].Load() {
			t.Fatalf("webhook %d was not acknowledged", i)
		}
	}
	a.kill9(t)
	killed := time.Now()
	before := rec.tally()
	var fps []string
	for i := range hooks {
		_, f := webhook(i, alertsPer)
		fps = append(fps, f...)
	}
	if before.distinct == len(fps) {
		t.Fatal("replica a sent everything before it was killed: the test needs a backlog")
	}
	if !eventually(2*time.Minute, func() bool { return rec.has(fps) == 0 }) {
		t.Errorf("replica b did not take over: %d of %d alerts missing", rec.has(fps), len(fps))
		dumpQueue(t, dsn)
		t.FailNow()
	}
	got := rec.tally()
	t.Logf("HA lanes: %d alerts, %d sent by a before the kill, all delivered %s after it; messages by replica %v; duplicates %d",
		len(fps), before.distinct, time.Since(killed).Round(time.Millisecond), got.byFrom, got.duplicates)
	if got.duplicates > 1 {
		t.Errorf("%d alerts repeated, want at most the one a was sending", got.duplicates)
	}
	b.stop(t)
}
