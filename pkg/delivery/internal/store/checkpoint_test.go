package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestBackgroundCheckpoint: with SQLite's own checkpoints off on the writer,
// the checkpointer copies the write-ahead log into the database so that the
// writer starts the log over instead of growing it.
func TestBackgroundCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	st := openTestStore(t)
	ctx := context.Background()
	var auto int64
	if err := st.sh.db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint %d (%v), want 0 on the writer", auto, err)
	}
	write := func(tag string) {
		for i := range 1500 {
			if _, err := st.Exec(ctx, `INSERT INTO alertchart_rate (channel) VALUES ($1)`, fmt.Sprintf("%s%d", tag, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	size := func() int64 {
		fi, err := os.Stat(st.sh.path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	write("a")
	first := size()
	time.Sleep(checkpointEvery + checkpointEvery/2)
	write("b")
	if second := size(); second > first*3/2 {
		t.Fatalf("the log grew from %d to %d bytes: nothing checkpointed it", first, second)
	}
}
