package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

func testQueue(t *testing.T, st *Store) *Queue {
	t.Helper()
	q, err := st.NewQueue(&river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestGroupCommitWaitsForSync: with SyncFull, Batch returns only after the
// write-ahead log was fsynced, and concurrent callers share the fsyncs.
func TestGroupCommitWaitsForSync(t *testing.T) {
	st := openTestStore(t)
	q := testQueue(t, st)
	release := make(chan struct{})
	var mu sync.Mutex
	syncs := 0
	orig := st.batch.sync
	st.batch.sync = func() error {
		<-release
		mu.Lock()
		syncs++
		mu.Unlock()
		return orig()
	}
	ctx := context.Background()
	done := make(chan error, 20)
	for i := range 20 {
		go func() {
			done <- q.Batch(ctx, func(tx *Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO alertchart_rate (channel) VALUES ($1)`, string(rune('a'+i)))
				return err
			})
		}()
	}
	select {
	case err := <-done:
		t.Fatalf("Batch returned before the fsync: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Committed (visible) though not yet answered.
	if n, err := st.QueryInt(ctx, `SELECT COUNT(*) FROM alertchart_rate`); err != nil || n == 0 {
		t.Fatalf("nothing committed while waiting for the fsync: %d %v", n, err)
	}
	close(release)
	for range 20 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if syncs == 0 || syncs >= 20 {
		t.Fatalf("%d fsyncs for 20 concurrent commits, want them shared", syncs)
	}
}

// TestGroupCommitFailureFailsTheBatch: when one caller's work fails,
// nothing of the batch is committed and every caller gets an error.
func TestGroupCommitFailureFailsTheBatch(t *testing.T) {
	st := openTestStore(t)
	q := testQueue(t, st)
	ctx := context.Background()
	// Hold the connection so that the callers below queue up as one batch.
	hold := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = st.Tx(ctx, func(*Tx) error { close(started); <-hold; return nil })
	}()
	<-started
	boom := errors.New("boom")
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, fail := range []bool{false, true, false} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = q.Batch(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO alertchart_rate (channel) VALUES ($1)`, string(rune('a'+i))); err != nil {
					return err
				}
				if fail {
					return boom
				}
				return nil
			})
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(hold)
	wg.Wait()
	if !errors.Is(errs[1], boom) {
		t.Fatalf("the failing caller got %v", errs[1])
	}
	for i, err := range errs {
		n, _ := st.QueryInt(ctx, `SELECT COUNT(*) FROM alertchart_rate WHERE channel = $1`, string(rune('a'+i)))
		if (err == nil) != (n == 1) {
			t.Fatalf("caller %d: error %v but %d rows committed", i, err, n)
		}
	}
}
