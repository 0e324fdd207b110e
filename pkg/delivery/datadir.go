package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Environment variables consulted by ChooseDataDir.
const (
	// EnvPluginDataDir carries `[plugin.alertchart-webhook-app] data_dir = …`
	// from grafana.ini: Grafana passes every key of the plugin's ini section
	// to the plugin process as GF_PLUGIN_<KEY>.
	EnvPluginDataDir = "GF_PLUGIN_DATA_DIR"
	// EnvGrafanaDataPath is Grafana's own data path when it is exported
	// (`[paths] data`, set by the official images and packages).
	EnvGrafanaDataPath = "GF_PATHS_DATA"
)

// tempDataDirName is the last-resort data directory under the system temp dir.
const tempDataDirName = "alertchart-webhook-app"

// ChooseDataDir picks the directory of the embedded SQLite queue, in order:
// settings delivery.dataDir, then $GF_PLUGIN_DATA_DIR, then
// $GF_PATHS_DATA/alertchart, then a directory under the system temp dir. The
// last choice survives a plugin restart but not a machine reboot or a
// container replacement, so it comes with a warning meant for the health check.
func ChooseDataDir(s *settings.Settings) (dir string, warning string) {
	if s != nil && s.Delivery.DataDir != "" {
		return s.Delivery.DataDir, ""
	}
	if d := os.Getenv(EnvPluginDataDir); d != "" {
		return d, ""
	}
	if d := os.Getenv(EnvGrafanaDataPath); d != "" {
		return filepath.Join(d, "alertchart"), ""
	}
	return filepath.Join(os.TempDir(), tempDataDirName),
		"the delivery queue lives in a temporary directory and may be lost on reboot; set delivery.dataDir, " +
			"or data_dir in the [plugin.alertchart-webhook-app] section of grafana.ini"
}

// IsTemporaryDataDir reports whether dir is ChooseDataDir's temp-dir fallback.
func IsTemporaryDataDir(dir string) bool {
	return filepath.Clean(dir) == filepath.Join(os.TempDir(), tempDataDirName)
}

// DatabaseFile is the SQLite queue's file name inside the data directory.
const DatabaseFile = store.SQLiteFile

// UnsafeDataDirError means the data directory could be read or changed by
// another local user, so the queue (alert contents, chart images, the
// records of every send) is not opened there.
type UnsafeDataDirError struct {
	Dir     string
	Problem string
}

func (e *UnsafeDataDirError) Error() string {
	return fmt.Sprintf("data directory %s is not safe for the delivery queue: %s", e.Dir, e.Problem)
}

// SecureDataDir prepares dir for the SQLite queue before it is opened:
// it creates it with mode 0700 when missing, refuses it (an
// *UnsafeDataDirError) when it is not a directory, is writable by every
// user, or (on Unix) belongs to another user than the process's, and
// creates the database file with mode 0600 — SQLite gives its -wal and -shm
// files the database file's mode — or takes group and other access away
// from the files of an older version that made them 0644.
//
// This is what protects the temp-dir fallback from another user who
// created /tmp/alertchart-webhook-app first.
func SecureDataDir(dir string) error {
	if dir == "" {
		return errors.New("no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		// A link is fine when it is the admin's (e.g. a volume mount point):
		// judge what it points to.
		if fi, err = os.Stat(dir); err != nil {
			return err
		}
	}
	if !fi.IsDir() {
		return &UnsafeDataDirError{Dir: dir, Problem: "it is not a directory"}
	}
	if problem := ownerProblem(fi); problem != "" {
		return &UnsafeDataDirError{Dir: dir, Problem: problem}
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return &UnsafeDataDirError{Dir: dir, Problem: fmt.Sprintf("every user may write to it (mode %04o); "+
			"remove that (chmod o-w) or point delivery.dataDir at a directory of its own", fi.Mode().Perm())}
	}
	db := filepath.Join(dir, DatabaseFile)
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", db, err)
	}
	dfi, err := f.Stat()
	_ = f.Close()
	if err != nil {
		return err
	}
	if problem := ownerProblem(dfi); problem != "" {
		return &UnsafeDataDirError{Dir: dir, Problem: DatabaseFile + ": " + problem}
	}
	for _, name := range []string{DatabaseFile, DatabaseFile + "-wal", DatabaseFile + "-shm"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("restrict %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}
