package delivery

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
)

// TestStormDigestShortWindow squeezes a storm into a 3 s rate window: 1,500
// alerts for a robot allowed 20 messages per window. Every alert must arrive,
// the fake must never see a 21st message inside its window, and the backlog
// must be merged into digests. (test/deliverytest runs the real-time minute.)
func TestStormDigestShortWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	n := newFake("wecom", 20, false)
	n.window = 3 * time.Second
	svc := openTest(t, testSettings(t, "wecom"), &fakeCharter{}, func(c *Config) { c.RateWindow = 3100 * time.Millisecond }, n)
	const total = 1500
	var ids []string
	for i := range total / 5 {
		res, err := svc.Accept(context.Background(), "ops", payload(5, fmt.Sprintf("s%04d-", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	seen := func() map[string]int {
		m := map[string]int{}
		for _, s := range n.messages() {
			if s.part == channels.PartChart {
				continue
			}
			for _, fp := range s.fps {
				m[fp]++
			}
		}
		return m
	}
	waitFor(t, 60*time.Second, "every alert delivered", func() bool { return len(seen()) == total })
	n.mu.Lock()
	hits := n.rateHits
	n.mu.Unlock()
	if hits != 0 {
		t.Fatalf("provoked %d rate-limit errors", hits)
	}
	digests, dup := 0, 0
	for _, s := range n.messages() {
		if s.digest {
			digests++
		}
	}
	for _, c := range seen() {
		dup += c - 1
	}
	if digests == 0 {
		t.Fatal("no digest was sent")
	}
	if dup != 0 {
		t.Fatalf("%d duplicate alerts", dup)
	}
	// Each digest carries one overview, sent as the digest's second message
	// when a slot was free and no text waited, and otherwise given up with
	// the reason recorded.
	var notes map[string]int
	// The outcome of an image that follows the text is recorded after it.
	waitFor(t, 10*time.Second, "every digested delivery to record its overview outcome", func() bool {
		notes = map[string]int{}
		for _, id := range ids {
			c := channelOf(t, svc, id)
			if c.Part != "digest" {
				continue
			}
			if !strings.HasPrefix(c.ChartNote, "overview chart") {
				return false
			}
			notes[strings.SplitN(c.ChartNote, ";", 2)[0]]++
		}
		return true
	})
	texts, images := digestsOf(n)
	for _, img := range images {
		if !slices.ContainsFunc(texts, func(d sent) bool { return slices.Equal(d.fps, img.fps) }) {
			t.Errorf("an overview image of %d alerts matches no digest", len(img.fps))
		}
	}
	t.Logf("%d alerts in %d messages (%d digests, %d overview images); digested deliveries by overview outcome: %v",
		total, len(n.messages()), digests, len(images), notes)
}

// TestRestartResumes closes a Service while a channel is failing and opens a
// new one on the same data directory: the queued text is sent by the new one.
func TestRestartResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	dir := queuetest.DataDir(t)
	s := testSettings(t, "ops")
	down := newFake("ops", 0, false)
	down.fail = func(int, *channels.Message) error {
		return &channels.Error{Kind: channels.Retryable, StatusCode: 503, Msg: "unavailable", RetryAfter: 2 * time.Second}
	}
	svc := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, down)
	res, err := svc.Accept(context.Background(), "ops", payload(2, "r"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "first attempt", func() bool { down.mu.Lock(); defer down.mu.Unlock(); return down.calls > 0 })
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	up := newFake("ops", 0, false)
	svc2 := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, up)
	waitSent(t, svc2, res.ID, "text after restart")
	d, err := svc2.Delivery(context.Background(), res.ID)
	if err != nil || d.Status != "sent" || d.Channels[0].Attempts != 2 || len(up.messages()) != 1 {
		t.Fatalf("%v %+v", err, d)
	}
}

// TestOverlappingInstances mimics a settings change: the new Service opens
// the same data directory while the old one still runs, then the old one is
// closed. Nothing is sent twice or lost.
func TestOverlappingInstances(t *testing.T) {
	dir := queuetest.DataDir(t)
	s := testSettings(t, "ops")
	n := newFake("ops", 0, false)
	old := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, n)
	for i := range 50 {
		if _, err := old.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("o%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	cur := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, n)
	for i := range 50 {
		if _, err := cur.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("n%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "100 texts", func() bool { return len(n.messages()) >= 100 })
	time.Sleep(300 * time.Millisecond)
	count := map[string]int{}
	for _, m := range n.messages() {
		for _, fp := range m.fps {
			count[fp]++
		}
	}
	if len(count) != 100 || len(n.messages()) != 100 {
		t.Fatalf("%d distinct alerts in %d messages", len(count), len(n.messages()))
	}
}

// TestMaintenanceRequeuesStranded forges the state a lost hand-over would
// leave: a pending text that joined a digest whose owner job is gone and
// that has no job of its own. Maintenance must queue it again, and must
// leave alone a pending text whose job is merely waiting.
func TestMaintenanceRequeuesStranded(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	s := testSettings(t, "ops")
	n := newFake("ops", 0, false)
	var down atomic.Bool
	down.Store(true)
	n.fail = func(int, *channels.Message) error {
		if down.Load() {
			return &channels.Error{Kind: channels.Retryable, StatusCode: 503, Msg: "unavailable", RetryAfter: 30 * time.Minute}
		}
		return nil
	}
	svc := openTest(t, s, nil, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	}, n)
	ctx := context.Background()
	lost, err := svc.Accept(ctx, "ops", payload(1, "lost"))
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := svc.Accept(ctx, "ops", payload(1, "wait"))
	if err != nil {
		t.Fatal(err)
	}
	db := svc.e.st
	jobsOf := func(id string) int64 {
		t.Helper()
		live, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'alertchart_text' AND state IN ('available', 'running', 'scheduled', 'retryable')
			AND json_extract(args, '$.d') = $1`, id)
		if err != nil {
			t.Fatal(err)
		}
		return live
	}
	waitFor(t, 10*time.Second, "both texts to wait for the channel", func() bool {
		snoozed, _ := db.QueryInt(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'alertchart_text' AND state = 'scheduled'`)
		return snoozed == 2
	})
	// The forged loss: the first text's job is gone and its row claims an
	// owner that does not exist.
	if _, err := db.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = CURRENT_TIMESTAMP WHERE kind = 'alertchart_text' AND json_extract(args, '$.d') = $1`, lost.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE alertchart_channel SET digest_owner = 'gone/ops' WHERE delivery_id = $1`, lost.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.e.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jobsOf(lost.ID); got != 0 {
		t.Fatalf("a text younger than %s was requeued (%d jobs)", strandedAfter, got)
	}
	skew.Store(int64(strandedAfter + time.Minute))
	if _, err := db.Exec(ctx, `UPDATE alertchart_rate SET paused_until = 0`); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	if err := svc.e.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jobsOf(waiting.ID); got != 1 {
		t.Fatalf("the waiting text has %d live jobs after maintenance, want its own 1", got)
	}
	waitSent(t, svc, lost.ID, "the stranded text")
	msgs := n.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the stranded text's 1", len(msgs))
	}
	if fps := msgs[0].fps; len(fps) != 1 || fps[0] != "lost0000" {
		t.Fatalf("sent %v, want the stranded alert", fps)
	}
	d, err := svc.Delivery(ctx, lost.ID)
	if err != nil || d.Status != "sent" {
		t.Fatalf("stranded delivery after requeue: %v %+v", err, d)
	}
}

// TestDataDirLockedByAnotherProcess: a data directory whose lock another
// process holds is refused with an error that says what to do, and the
// directory can be opened once the lock is gone.
func TestDataDirLockedByAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// flock locks belong to an open file, so a second handle in this
	// process stands in for another process.
	other := flock.New(filepath.Join(dir, "delivery.lock"))
	if ok, err := other.TryLock(); err != nil || !ok {
		t.Fatalf("could not take the lock: %v %v", ok, err)
	}
	cfg := Config{Settings: testSettings(t, "ops"), DataDir: dir, Notifiers: map[string]channels.Notifier{"ops": newFake("ops", 0, false)}}
	_, err := Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "in use by another AlertChart process") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("open of a locked data directory: %v", err)
	}
	if err := other.Unlock(); err != nil {
		t.Fatal(err)
	}
	openTest(t, cfg.Settings, nil, func(c *Config) { c.DataDir = dir }, newFake("ops", 0, false))
}

// mentionFake costs two platform messages per send, like a WeCom robot
// that follows each text with a mention message.
type mentionFake struct{ *fakeNotifier }

func (m mentionFake) Cost(*channels.Message) int { return 1 + m.extra }

// TestCostlySendsKeepTheLimit: when a send costs two of the robot's
// messages, the pipeline reserves two slots, so a burst never provokes a
// rate-limit error.
func TestCostlySendsKeepTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	f := newFake("wecom", 6, false)
	f.window = 3 * time.Second
	f.extra = 1
	n := mentionFake{f}
	s := testSettings(t, "wecom")
	cfg := Config{Settings: s, DataDir: queuetest.DataDir(t), Notifiers: map[string]channels.Notifier{"wecom": n},
		RateWindow: 3100 * time.Millisecond}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	const total = 40
	for i := range total {
		if _, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("m%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "every alert", func() bool {
		seen := map[string]bool{}
		for _, m := range f.messages() {
			for _, fp := range m.fps {
				seen[fp] = true
			}
		}
		return len(seen) == total
	})
	f.mu.Lock()
	hits := f.rateHits
	f.mu.Unlock()
	if hits != 0 {
		t.Fatalf("%d sends were refused by the robot's limit: a two-message send was charged one slot", hits)
	}
}
