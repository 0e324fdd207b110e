package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Sync is how an accepted notification reaches the disk on SQLite.
//
// The SQLite queue runs in WAL mode with synchronous=NORMAL: a commit
// writes its pages to the write-ahead log (delivery.db-wal) through the OS,
// and SQLite fsyncs the log only at checkpoints (and the database file
// after them). That survives a killed process (the OS still has the
// pages), not an OS crash or power loss, which may roll back the last
// commits.
//
// With SyncFull, a group commit of accepted notifications is answered only
// after the write-ahead log was fsynced (walSyncer), which makes exactly
// those commits survive an OS crash or power loss on a disk that honours
// flushes — what synchronous=FULL would do, with two differences that keep
// the webhook fast: one fsync serves every batch committed while the
// previous one ran, and it runs after the SQLite connection is released,
// so the lanes keep recording sends meanwhile. Nothing else waits for the
// disk: losing a send record to a power cut repeats that message, it never
// loses one.
//
// (It is safe because the log only grows between checkpoints, and a
// checkpoint fsyncs the log before it copies it into the database and the
// database before the log is reused: frames committed before an fsync of
// the file are on disk after it, in the log or in the database.)
type Sync string

const (
	// SyncFull: acknowledged notifications survive an OS crash or power loss.
	SyncFull Sync = "full"
	// SyncNormal: acknowledged notifications survive a killed process; an
	// OS crash or power loss may lose the last seconds of them.
	SyncNormal Sync = "normal"
)

// walSyncer fsyncs one SQLite file's write-ahead log, through a descriptor
// of its own (fsync flushes the file, whichever descriptor asks).
type walSyncer struct {
	path string
	mu   sync.Mutex
	f    *os.File
	info os.FileInfo
}

func newWALSyncer(dbPath string) (*walSyncer, error) {
	w := &walSyncer{path: dbPath + "-wal"}
	if err := w.open(); err != nil {
		return nil, err
	}
	// The log's directory entry must be on disk too.
	if d, err := os.Open(filepath.Dir(dbPath)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return w, nil
}

func (w *walSyncer) open() error {
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open the write-ahead log for fsync: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return err
	}
	if w.f != nil {
		_ = w.f.Close()
	}
	w.f, w.info = f, info
	return nil
}

// sync flushes everything committed so far to disk.
func (w *walSyncer) sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	// SQLite keeps the log file while the database is open; should it ever
	// be replaced, follow it rather than fsync a file nobody writes.
	if cur, err := os.Stat(w.path); err != nil || !os.SameFile(cur, w.info) {
		if err := w.open(); err != nil {
			return err
		}
	}
	return w.f.Sync()
}

func (w *walSyncer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		_ = w.f.Close()
		w.f = nil
	}
}
