package delivery

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestChooseDataDir(t *testing.T) {
	s := testSettings(t)
	t.Setenv(EnvPluginDataDir, "")
	t.Setenv(EnvGrafanaDataPath, "")
	dir, warn := ChooseDataDir(s)
	if warn == "" || dir == "" {
		t.Fatalf("temp fallback must warn: %q %q", dir, warn)
	}
	t.Setenv(EnvGrafanaDataPath, "/var/lib/grafana")
	if dir, warn := ChooseDataDir(s); dir != filepath.Join("/var/lib/grafana", "alertchart") || warn != "" {
		t.Fatalf("grafana data path: %q %q", dir, warn)
	}
	t.Setenv(EnvPluginDataDir, "/srv/alertchart")
	if dir, _ := ChooseDataDir(s); dir != "/srv/alertchart" {
		t.Fatalf("plugin ini data_dir: %q", dir)
	}
	s.Delivery.DataDir = "/data/q"
	if dir, _ := ChooseDataDir(s); dir != "/data/q" {
		t.Fatalf("settings: %q", dir)
	}
}

func TestSecureDataDirCreatesPrivateDirAndDatabase(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "queue")
	if err := SecureDataDir(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %04o, want 0700", fi.Mode().Perm())
	}
	db, err := os.Stat(filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if db.Mode().Perm() != 0o600 {
		t.Fatalf("%s mode %04o, want 0600", DatabaseFile, db.Mode().Perm())
	}
	// Files an older version left readable by everyone are restricted.
	for _, name := range []string{DatabaseFile, DatabaseFile + "-wal"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := SecureDataDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DatabaseFile, DatabaseFile + "-wal"} {
		if fi, _ := os.Stat(filepath.Join(dir, name)); fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %04o after SecureDataDir, want 0600", name, fi.Mode().Perm())
		}
	}
}

func TestSecureDataDirRefusesOthersDirectories(t *testing.T) {
	t.Parallel()
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	var unsafe *UnsafeDataDirError
	if err := SecureDataDir(open); !errors.As(err, &unsafe) || !strings.Contains(err.Error(), "every user may write") {
		t.Fatalf("world-writable dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(open, DatabaseFile)); !os.IsNotExist(err) {
		t.Fatalf("a database was created in a refused directory: %v", err)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SecureDataDir(file); err == nil {
		t.Fatal("a file was accepted as the data directory")
	}

	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("changing a directory's owner needs root")
	}
	theirs := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := SecureDataDir(theirs); !errors.As(err, &unsafe) || !strings.Contains(err.Error(), "belongs to user id 65534") {
		t.Fatalf("another user's dir: %v", err)
	}
}

// The temp-dir fallback is checked like any other: another user who
// created it first does not get to read or feed the queue.
func TestTemporaryFallbackIsChecked(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv(EnvPluginDataDir, "")
	t.Setenv(EnvGrafanaDataPath, "")
	dir, warn := ChooseDataDir(nil)
	if warn == "" || !IsTemporaryDataDir(dir) || filepath.Dir(dir) != tmp {
		t.Fatalf("fallback %q %q", dir, warn)
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	var unsafe *UnsafeDataDirError
	if err := SecureDataDir(dir); !errors.As(err, &unsafe) {
		t.Fatalf("world-writable temp fallback: %v", err)
	}
}
