package deliverytest

import (
	"context"
	"fmt"
	"net"
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

	"github.com/jackc/pgx/v5"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// startPostgres runs a throw-away PostgreSQL 15 on a free loopback port and
// returns its DSN. As root it runs the server as the postgres user (the
// server refuses to run as root).
func startPostgres(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL 15 is required (apt-get install postgresql-15): %v", err)
		}
		t.Skipf("PostgreSQL 15 not installed at %s", pgBin)
	}
	dir, err := os.MkdirTemp("", "alertchart-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var cred *syscall.Credential
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
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) {
		cmd := exec.Command(filepath.Join(pgBin, name), args...)
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("%s: %v\n%s\n%s", name, err, out, log)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
	run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir), "start")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("postgres log:\n%s", log)
		}
		cmd := exec.Command(filepath.Join(pgBin, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		_ = cmd.Run()
	})
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	pgDataDirs.Store(dsn, data)
	return dsn
}

var pgDataDirs sync.Map // dsn → data directory

// pgCPU is the CPU time (user+system) the server started for dsn has used
// so far: its postmaster and every live backend (Linux /proc; 0 elsewhere).
// A backend that exited is not counted, so measure with the pool still open.
func pgCPU(dsn string) time.Duration {
	d, ok := pgDataDirs.Load(dsn)
	if !ok {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(d.(string), "postmaster.pid"))
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

// dumpQueue logs what the shared PostgreSQL queue holds, so a failed HA run
// shows where the missing deliveries are stuck.
func dumpQueue(t *testing.T, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Logf("queue dump: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`SELECT kind, state, count(*), max(attempt), min(scheduled_at)::text, max(coalesce(attempted_by[array_upper(attempted_by,1)],'')) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT status, digest_owner <> '', text_sent_at IS NULL, count(*) FROM alertchart_channel GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		`SELECT leader_id, elected_at::text, expires_at::text, now()::text FROM river_leader`,
		`SELECT id, kind, state, attempt, scheduled_at::text, attempted_at::text, coalesce(errors[array_upper(errors,1)]::text,'') FROM river_job WHERE state NOT IN ('completed') ORDER BY id LIMIT 20`,
		`SELECT channel, count(*), max(at) FROM alertchart_rate_slot GROUP BY 1`,
		`SELECT channel, paused_until FROM alertchart_rate`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Logf("queue dump %q: %v", q, err)
			continue
		}
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				break
			}
			out = append(out, fmt.Sprint(vals...))
		}
		rows.Close()
		t.Logf("queue dump %s\n  %s", q, strings.Join(out, "\n  "))
	}
}
