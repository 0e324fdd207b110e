// Package queuetest gives tests a delivery data directory whose SQLite
// queue database is already created: a copy of one made, schema and River
// migrations included, once per test binary. Creating the schema parses some
// forty statements, which under the race detector costs each test about 40 ms;
// copying the file costs a fraction of a millisecond. The queue opens a
// copy exactly as it opens a database left by an earlier run of AlertChart:
// its migrations find nothing to do.
package queuetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

var template = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "alertchart-queuetest-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	st, err := store.OpenSQLite(context.Background(), dir, store.Options{})
	if err != nil {
		return nil, err
	}
	st.Close()
	return os.ReadFile(filepath.Join(dir, store.SQLiteFile))
})

// DataDir returns a new temporary directory (removed when t ends) holding a
// freshly migrated, empty queue database, for delivery.dataDir.
func DataDir(t testing.TB) string {
	t.Helper()
	db, err := template()
	if err != nil {
		t.Fatalf("queuetest: create the template queue database: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.SQLiteFile), db, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
