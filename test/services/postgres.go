package services

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pgBin is where Debian's postgresql-15 package puts the server.
const pgBin = "/usr/lib/postgresql/15/bin"

// Postgres is a throw-away PostgreSQL 15 on a free loopback port, for the
// queue of HA tests. It can be stopped and started again on the same port
// and data (a database outage).
type Postgres struct {
	// DSN connects as the superuser postgres, without a password.
	DSN     string
	DataDir string
	Port    int

	t    testing.TB
	dir  string
	cred *syscall.Credential
	mu   sync.Mutex
	up   bool
}

// StartPostgres initialises and starts a server, stopped when the test
// ends (its log printed if the test failed). As root it runs the server as
// the postgres user (the server refuses to run as root). A missing
// installation skips the test, or fails it under CI=true.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL 15 is required (apt-get install postgresql-15): %v", err)
		}
		t.Skipf("PostgreSQL 15 not installed at %s", pgBin)
	}
	dir, err := os.MkdirTemp("", "alertchart-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &Postgres{t: t, dir: dir, DataDir: filepath.Join(dir, "data"), Port: FreePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user to start the server: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if out, err := p.run("initdb", "-D", p.DataDir, "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	p.Start()
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("---- postgres log ----\n%s", log)
		}
		p.Stop()
	})
	return p
}

func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(pgBin, name), args...)
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// Start starts the (stopped) server and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.up {
		return
	}
	out, err := p.run("pg_ctl", "-D", p.DataDir, "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.Port, p.dir), "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	p.up = true
}

// Stop stops the server at once (immediate mode: connections are cut as
// by a crash of the database host).
func (p *Postgres) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.up {
		return
	}
	_, _ = p.run("pg_ctl", "-D", p.DataDir, "-m", "immediate", "-t", "60", "-w", "stop")
	p.up = false
}

// CPU is the CPU time (user+system) the server has used so far: its
// postmaster and every live backend (Linux /proc; 0 elsewhere). A backend
// that exited is not counted, so measure with the client's pool open.
func (p *Postgres) CPU() time.Duration {
	b, err := os.ReadFile(filepath.Join(p.DataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	entries, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range entries {
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces), from the state on.
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) < 13 || (e.Name() != pm && f[1] != pm) {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}
