package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
)

// TestLeasesKeepTheLimit: a robot with a high limit is sent to from rate
// leases (blocks of slots), and a burst still never exceeds its limit.
func TestLeasesKeepTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	const limit, total = 1200, 2500
	if leaseSize(limit) < 2 {
		t.Fatalf("lease size %d: the test needs leases", leaseSize(limit))
	}
	n := newFake("fast", limit, false)
	n.window = 3 * time.Second
	s := testSettings(t, "fast")
	s.Channels[0].DisableChart = true
	svc := openTest(t, s, nil, func(c *Config) { c.RateWindow = 3100 * time.Millisecond }, n)
	for i := range total {
		if _, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("l%05d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "every alert", func() bool {
		seen := map[string]bool{}
		for _, m := range n.messages() {
			for _, fp := range m.fps {
				seen[fp] = true
			}
		}
		return len(seen) == total
	})
	if hits := rateHits(n); hits != 0 {
		t.Fatalf("the robot refused %d sends: a lease took more than the window allowed", hits)
	}
}

// TestRecoverLaneRows: a row a dead process held in a lane (pending, claimed
// by the lane's key, no job) is sent when the data directory is opened again.
func TestRecoverLaneRows(t *testing.T) {
	t.Parallel()
	dir := queuetest.DataDir(t)
	s := testSettings(t, "ops")
	down := newFake("ops", 0, false)
	down.fail = func(int, *channels.Message) error {
		return &channels.Error{Kind: channels.Permanent, Msg: "not now"}
	}
	svc := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, down)
	res, err := svc.Accept(context.Background(), "ops", payload(1, "held"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first attempt", func() bool { down.mu.Lock(); defer down.mu.Unlock(); return down.calls > 0 })
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Forge what a kill -9 during the lane's send leaves: the row pending,
	// claimed by the lane's key, and no job.
	forge := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, newFake("ops", 0, false))
	ctx := context.Background()
	for _, q := range []string{
		`UPDATE alertchart_channel SET status = 'pending', digest_owner = delivery_id || '/' || channel, last_error = ''`,
		`DELETE FROM river_job WHERE kind = 'alertchart_text'`,
	} {
		if _, err := forge.e.st.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := forge.Close(ctx); err != nil {
		t.Fatal(err)
	}
	up := newFake("ops", 0, false)
	svc2 := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, up)
	waitSent(t, svc2, res.ID, "the held text after the restart")
	if n := len(up.messages()); n != 1 {
		t.Fatalf("the held text was sent %d times", n)
	}
}

// TestLaneReadsBackQueuedTasks: texts queued behind laneDataMax others are
// kept by key only and read back from the queue when their turn comes;
// every one arrives once.
func TestLaneReadsBackQueuedTasks(t *testing.T) {
	defer func(n int) { laneDataMax = n }(laneDataMax)
	laneDataMax = 200
	total := laneDataMax + 50
	n := newFake("ops", 0, false)
	release := make(chan struct{})
	n.fail = func(call int, _ *channels.Message) error {
		if call == 1 {
			<-release // hold the lane while the queue fills
		}
		return nil
	}
	s := testSettings(t, "ops")
	s.Channels[0].DisableChart = true
	// The organisation's clock runs at a hundredth of real speed. On a
	// loaded machine the lane can fall laneCatchUp behind while it reads
	// texts back, and then sends what waits as digests, by design (see
	// TestLaneCatchesUpWithDigests): fewer messages than this test counts,
	// and the read-back path left untested.
	start := time.Now()
	slow := func() time.Time { return start.Add(time.Since(start) / 100) }
	svc := openTest(t, s, nil, func(c *Config) { c.Now = slow }, n)
	for i := range total {
		if _, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("q%05d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	svc.e.mu.Lock()
	l := svc.e.lanes[laneKey{1, "ops"}]
	svc.e.mu.Unlock()
	l.mu.Lock()
	light := 0
	for _, task := range l.queue {
		if task.del == nil {
			light++
		}
	}
	l.mu.Unlock()
	close(release)
	if light == 0 {
		t.Fatal("no task was queued by key only")
	}
	waitFor(t, 60*time.Second, "every text", func() bool { return len(n.messages()) >= total })
	time.Sleep(200 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range n.messages() {
		for _, fp := range m.fps {
			seen[fp]++
		}
	}
	if len(seen) != total || len(n.messages()) != total {
		t.Fatalf("%d distinct alerts in %d messages, want %d in %d", len(seen), len(n.messages()), total, total)
	}
}

// TestLaneCatchesUpWithDigests: a channel without charts whose robot answers
// slower than alerts arrive sends one message per notification until its
// lane is laneCatchUp behind, then what waits goes out as digests; every
// alert is named once. A channel with charts keeps one message each.
func TestLaneCatchesUpWithDigests(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	count := func(n *fakeNotifier) (seen map[string]int, singles, digests int) {
		seen = map[string]int{}
		for _, m := range n.messages() {
			if m.part == channels.PartChart {
				continue
			}
			if m.digest {
				digests++
			} else {
				singles++
			}
			for _, fp := range m.fps {
				seen[fp]++
			}
		}
		return seen, singles, digests
	}

	const total = 300
	slow := newFake("slow", 0, false)
	slow.delay, slow.fits = 40*time.Millisecond, 50
	s := testSettings(t, "slow")
	s.Channels[0].DisableChart = true
	svc := openTest(t, s, nil, nil, slow)
	for i := range total {
		if _, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("c%04d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "every alert", func() bool { seen, _, _ := count(slow); return len(seen) == total })
	seen, singles, digests := count(slow)
	for fp, n := range seen {
		if n != 1 {
			t.Fatalf("%s named %d times", fp, n)
		}
	}
	// One at a time, 40 ms each, the lane sends about 25 before it is a
	// second behind; digests of at most 50 alerts carry the rest.
	if singles == 0 || digests == 0 || singles+digests > total/2 {
		t.Fatalf("%d single messages and %d digests for %d alerts: want singles first, then digests", singles, digests, total)
	}
	t.Logf("%d alerts: %d single messages, then %d digests", total, singles, digests)
	if first := slow.messages()[0]; first.digest {
		t.Fatal("the first message is a digest: the lane was not behind yet")
	}

	// With charts, one message per notification however far behind.
	const charted = 40
	withCharts := newFake("charts", 0, false)
	withCharts.delay = 40 * time.Millisecond
	svc2 := openTest(t, testSettings(t, "charts"), &fakeCharter{}, nil, withCharts)
	for i := range charted {
		if _, err := svc2.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("k%04d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "every charted alert", func() bool { seen, _, _ := count(withCharts); return len(seen) == charted })
	if _, singles, digests := count(withCharts); digests != 0 || singles != charted {
		t.Fatalf("a channel with charts: %d single messages and %d digests, want %d singles", singles, digests, charted)
	}
}
