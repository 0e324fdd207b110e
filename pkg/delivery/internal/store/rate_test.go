package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/alertchart/alertchart/test/services"
)

// openTestStore opens a store on a fresh copy of a migrated database (as
// queuetest gives the packages above; it cannot be imported here): the
// migrations run once per test binary, not once per test, and a store opens
// the copy as it opens one an earlier run left.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	db, err := migratedDB()
	if err != nil {
		t.Fatalf("create the template database: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SQLiteFile), db, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := OpenSQLite(context.Background(), dir, Options{Sync: SyncFull})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

var migratedDB = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "alertchart-store-test-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	st, err := OpenSQLite(context.Background(), dir, Options{})
	if err != nil {
		return nil, err
	}
	st.Close()
	return os.ReadFile(filepath.Join(dir, SQLiteFile))
})

// openTestPostgres opens a store on a PostgreSQL of its own (skipped under
// -short).
func openTestPostgres(t *testing.T) *Store {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	st, err := OpenPostgres(context.Background(), services.StartPostgres(t).DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func reserve(t *testing.T, st *Store, cost, limit int, now time.Time) RateDecision {
	t.Helper()
	var dec RateDecision
	err := st.Tx(context.Background(), func(tx *Tx) error {
		var err error
		dec, err = tx.RateCheck(context.Background(), "robot", cost, limit, time.Minute, now, true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// TestRateWindowCounts: the window holds at most limit slots, frees them a
// window after they were taken, and says how long to wait for the one a
// send needs — with the count kept in alertchart_rate.used.
func TestRateWindowCounts(t *testing.T) {
	st := openTestStore(t)
	ctx := context.Background()
	t0 := time.UnixMilli(1_000_000_000)
	for i := range 5 {
		if dec := reserve(t, st, 1, 6, t0.Add(time.Duration(i)*time.Second)); !dec.OK {
			t.Fatalf("slot %d refused", i)
		}
	}
	// 5 taken at t0..t0+4s; a send costing 2 must wait for t0's slot.
	dec := reserve(t, st, 2, 6, t0.Add(10*time.Second))
	if dec.OK || dec.Wait != 50*time.Second+time.Millisecond {
		t.Fatalf("cost 2 with 5 of 6 taken: ok %v wait %s, want a wait of 50.001s", dec.OK, dec.Wait)
	}
	if peek, err := st.RateCheck(ctx, "robot", 1, 6, time.Minute, t0.Add(10*time.Second), false); err != nil || !peek.OK {
		t.Fatalf("peek for one free slot: %+v %v", peek, err)
	}
	if dec := reserve(t, st, 1, 6, t0.Add(10*time.Second)); !dec.OK {
		t.Fatal("the sixth slot was refused")
	}
	if dec := reserve(t, st, 1, 6, t0.Add(30*time.Second)); dec.OK || dec.Wait != 30*time.Second+time.Millisecond {
		t.Fatalf("full window: %+v", dec)
	}
	// A minute after the first two, two slots are free again and the
	// expired ones are deleted from the log and the count.
	if dec := reserve(t, st, 2, 6, t0.Add(61*time.Second+500*time.Millisecond)); !dec.OK {
		t.Fatalf("after expiry: %+v", dec)
	}
	used, _ := st.QueryInt(ctx, `SELECT used FROM alertchart_rate WHERE channel = 'robot'`)
	rows, _ := st.QueryInt(ctx, `SELECT COUNT(*) FROM alertchart_rate_slot WHERE channel = 'robot'`)
	if used != 6 || rows != 6 {
		t.Fatalf("used %d, slot rows %d, want 6 and 6", used, rows)
	}
	// Maintenance-style expiry keeps the count in step.
	err := st.Tx(ctx, func(tx *Tx) error {
		if err := tx.LockRate(ctx, "robot"); err != nil {
			return err
		}
		return tx.ExpireSlots(ctx, "robot", t0.Add(4*time.Second))
	})
	if err != nil {
		t.Fatal(err)
	}
	used, _ = st.QueryInt(ctx, `SELECT used FROM alertchart_rate WHERE channel = 'robot'`)
	rows, _ = st.QueryInt(ctx, `SELECT COUNT(*) FROM alertchart_rate_slot WHERE channel = 'robot'`)
	if used != rows || used != 3 {
		t.Fatalf("after expiry used %d, rows %d, want 3", used, rows)
	}
	// A count that ran ahead of its rows (3 real) heals instead of
	// blocking the robot.
	if _, err := st.Exec(ctx, `UPDATE alertchart_rate SET used = 9 WHERE channel = 'robot'`); err != nil {
		t.Fatal(err)
	}
	if dec := reserve(t, st, 1, 6, t0.Add(62*time.Second)); dec.OK || dec.Wait != 100*time.Millisecond {
		t.Fatalf("inconsistent count: %+v", dec)
	}
	if dec := reserve(t, st, 1, 6, t0.Add(62*time.Second)); !dec.OK {
		t.Fatalf("count not repaired: %+v", dec)
	}
}

// TestRateMigration: a database made before alertchart_rate.used existed
// gets the column with the count of its slot rows.
func TestRateMigration(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "delivery.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE alertchart_rate (channel TEXT PRIMARY KEY, paused_until BIGINT NOT NULL DEFAULT 0)`,
		`CREATE TABLE alertchart_rate_slot (channel TEXT NOT NULL, at BIGINT NOT NULL)`,
		`INSERT INTO alertchart_rate (channel) VALUES ('a'), ('b')`,
		`INSERT INTO alertchart_rate_slot (channel, at) VALUES ('a', 1), ('a', 2), ('b', 3)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	st, err := OpenSQLite(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for ch, want := range map[string]int64{"a": 2, "b": 1} {
		got, err := st.QueryInt(context.Background(), `SELECT used FROM alertchart_rate WHERE channel = $1`, ch)
		if err != nil || got != want {
			t.Fatalf("used of %s: %d %v, want %d", ch, got, err, want)
		}
	}
}

func reserveWindows(t *testing.T, st *Store, cost int, ws []Window, now time.Time) RateDecision {
	t.Helper()
	var dec RateDecision
	err := st.Tx(context.Background(), func(tx *Tx) error {
		var err error
		dec, err = tx.RateCheckWindows(context.Background(), "robot", cost, ws, now, true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// TestRateShortWindows: a platform's per-second window is kept with its
// minute; a refusal by the short window only is pacing (Short), one by the
// minute is not; a send costing more than the short window admits goes
// when it is empty and spreads its slots so the next one keeps the average.
func TestRateShortWindows(t *testing.T) {
	st := openTestStore(t)
	ws := []Window{{Max: 5, Per: time.Second, Pace: true}, {Max: 8, Per: time.Minute}}
	t0 := time.UnixMilli(2_000_000_000)
	for i := range 5 {
		if dec := reserveWindows(t, st, 1, ws, t0.Add(time.Duration(i)*10*time.Millisecond)); !dec.OK {
			t.Fatalf("send %d of the first second refused: %+v", i, dec)
		}
	}
	dec := reserveWindows(t, st, 1, ws, t0.Add(100*time.Millisecond))
	if dec.OK || !dec.Short || dec.Wait != 901*time.Millisecond {
		t.Fatalf("sixth in a second: %+v, want a pacing wait of 901ms (until the first leaves)", dec)
	}
	for i := range 3 {
		if dec := reserveWindows(t, st, 1, ws, t0.Add(time.Second+time.Duration(i)*10*time.Millisecond)); !dec.OK {
			t.Fatalf("send %d of the second second refused: %+v", i, dec)
		}
	}
	dec = reserveWindows(t, st, 1, ws, t0.Add(2*time.Second))
	if dec.OK || dec.Short {
		t.Fatalf("ninth in a minute of 8: %+v, want a refusal by the minute (not Short)", dec)
	}

	// One a second: a send of 2 goes into an empty window and the next
	// waits for both slots, the second dated a second later.
	st2 := openTestStore(t)
	one := []Window{{Max: 1, Per: time.Second, Pace: true}, {Max: 20, Per: time.Minute}}
	if dec := reserveWindows(t, st2, 2, one, t0); !dec.OK {
		t.Fatalf("cost 2 into an empty one-a-second window: %+v", dec)
	}
	dec = reserveWindows(t, st2, 1, one, t0.Add(1500*time.Millisecond))
	if dec.OK || !dec.Short || dec.Wait != 501*time.Millisecond {
		t.Fatalf("after a send of 2: %+v, want to wait until t0+2s", dec)
	}
	if dec := reserveWindows(t, st2, 1, one, t0.Add(2001*time.Millisecond)); !dec.OK {
		t.Fatalf("at t0+2s: %+v", dec)
	}

	// A pause no longer than the short window paces; a long one does not.
	ctx := context.Background()
	if err := st2.Pause(ctx, "robot", t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if dec := reserveWindows(t, st2, 1, []Window{{Max: 5, Per: 2 * time.Second, Pace: true}}, t0.Add(3*time.Second)); dec.OK || !dec.Short || dec.Wait != time.Second {
		t.Fatalf("paused 1s more under a 2s window: %+v", dec)
	}
	if dec := reserveWindows(t, st2, 1, one, t0.Add(2500*time.Millisecond)); dec.OK || dec.Short {
		t.Fatalf("paused 1.5s more under a 1s window: %+v, want a refusal that is not Short", dec)
	}
}
