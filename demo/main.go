// Command demo is the README's main job: it starts a real Prometheus and
// Alertmanager with demo rules against synthetic targets where one instance
// misbehaves, the AlertChart standalone server with a local inbox channel,
// waits for the charted notification with visible progress and prints where
// to look. Ctrl-C stops everything.
//
//	go run ./demo            (scripts/demo.sh builds first and runs this)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("alertchart", "bin/alertchart", "the AlertChart standalone server binary")
	dir := flag.String("dir", "", "working folder (default: a new temporary folder)")
	keep := flag.Bool("exit", false, "exit once the charted notification arrived (for scripts)")
	timeout := flag.Duration("timeout", 5*time.Minute, "how long to wait for the charted notification")
	flag.Parse()
	if err := run(*bin, *dir, *keep, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
}

func run(bin, dir string, exitWhenDone bool, timeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dir == "" {
		d, err := os.MkdirTemp("", "alertchart-demo-")
		if err != nil {
			return err
		}
		dir = d
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	bin = abs
	promBin, err := lookup("prometheus")
	if err != nil {
		return err
	}
	amBin, err := lookup("prometheus-alertmanager", "alertmanager")
	if err != nil {
		return err
	}

	// Two synthetic node exporters: node-1 is healthy, node-2's CPU climbs
	// past 80% half a minute after start.
	t0 := time.Now()
	targets := []string{}
	for i, misbehaves := range []bool{false, true} {
		addr, err := serveTarget(ctx, fmt.Sprintf("node-%d", i+1), misbehaves, t0)
		if err != nil {
			return err
		}
		targets = append(targets, addr)
	}
	step("synthetic targets: node-1 at %s (healthy), node-2 at %s (CPU climbs past 80%% after 30 s)", targets[0], targets[1])

	promPort, amPort, acPort := freePort(), freePort(), freePort()
	acURL := "http://127.0.0.1:" + strconv.Itoa(acPort)
	inbox := filepath.Join(dir, "inbox")
	files := map[string]string{
		"prometheus.yml": fmt.Sprintf(`global:
  scrape_interval: 2s
  evaluation_interval: 2s
alerting:
  alertmanagers:
  - static_configs:
    - targets: ['127.0.0.1:%d']
rule_files: [rules.yml]
scrape_configs:
- job_name: node
  static_configs:
  - targets: ['%s', '%s']
`, amPort, targets[0], targets[1]),
		"rules.yml": `groups:
- name: demo
  rules:
  - alert: HostHighCpuUsage
    expr: demo_cpu_usage_percent > 80
    for: 20s
    labels:
      severity: critical
    annotations:
      summary: "CPU usage above 80% on {{ $labels.instance }}"
      description: "{{ $labels.instance }} CPU usage is {{ $value | printf \"%.1f\" }}%"
      chart_unit: percent
`,
		"alertmanager.yml": fmt.Sprintf(`route:
  receiver: alertchart
  group_by: [alertname, instance]
  group_wait: 2s
  group_interval: 30s
  repeat_interval: 4h
receivers:
- name: alertchart
  webhook_configs:
  - url: %s/webhook/demo
    send_resolved: true
`, acURL),
		"alertchart.yaml": fmt.Sprintf(`server:
  listen: 127.0.0.1:%d
prometheus:
  url: http://127.0.0.1:%d
  scrapeInterval: 2s
chart:
  windowMultiplier: 2
  minWindow: 2m
  theme: dark
  language: zh
  timezone: Asia/Shanghai
delivery:
  dataDir: %s
channels:
- name: inbox
  type: inbox
  dir: %s
routes:
- receiver: demo
  channels: [inbox]
`, acPort, promPort, filepath.Join(dir, "data"), inbox),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	step("configuration written to %s", dir)

	var procs []*proc
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			p := procs[i]
			_ = p.cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}
		step("stopped everything; files remain in %s", dir)
	}()
	start := func(name, path string, args ...string) (*proc, error) {
		logPath := filepath.Join(dir, name+".log")
		f, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(path, args...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		p := &proc{name: name, cmd: cmd, log: logPath}
		procs = append(procs, p)
		return p, nil
	}
	ac, err := start("alertchart", bin, "-config", filepath.Join(dir, "alertchart.yaml"))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, acURL+"/healthz", ac); err != nil {
		return err
	}
	step("AlertChart standalone server at %s (log: %s)", acURL, ac.log)
	am, err := start("alertmanager", amBin, "--config.file=alertmanager.yml", "--storage.path=am-data",
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(amPort), "--cluster.listen-address=",
		"--web.external-url=http://127.0.0.1:"+strconv.Itoa(amPort)+"/")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/-/ready", amPort), am); err != nil {
		return err
	}
	step("Alertmanager at http://127.0.0.1:%d (log: %s)", amPort, am.log)
	pr, err := start("prometheus", promBin, "--config.file=prometheus.yml", "--storage.tsdb.path=prom-data",
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(promPort), "--web.external-url=http://127.0.0.1:"+strconv.Itoa(promPort)+"/")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/-/ready", promPort), pr); err != nil {
		return err
	}
	step("Prometheus at http://127.0.0.1:%d (log: %s)", promPort, pr.log)

	step("waiting for node-2's alert: pending after ~30 s, firing 20 s later (its rule's `for`), then text and chart")
	deadline := time.Now().Add(timeout)
	lastPhase := ""
	for {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no charted notification within %s; see the logs in %s", timeout, dir)
		}
		phase := alertPhase(promPort)
		if phase != lastPhase && phase != "" {
			step("Prometheus: HostHighCpuUsage is %s", phase)
			lastPhase = phase
		}
		if md, png := inboxResult(inbox); png != "" {
			step("charted notification delivered:")
			fmt.Printf("\n    message: %s\n    chart:   %s\n    inbox:   %s/inbox\n    records: curl -s %s/deliveries\n\n", md, png, acURL, acURL)
			if b, err := os.ReadFile(md); err == nil {
				fmt.Println(indent(string(b)))
			}
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if exitWhenDone {
		return nil
	}
	step("everything keeps running: open %s/inbox in a browser. Ctrl-C stops it all.", acURL)
	<-ctx.Done()
	return nil
}

func step(format string, args ...any) {
	fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

func lookup(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: `apt-get install prometheus prometheus-alertmanager` (scripts/setup.sh does)", names[0])
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHTTP(ctx context.Context, url string, p *proc) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p.cmd.ProcessState != nil {
			break
		}
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	b, _ := os.ReadFile(p.log)
	return fmt.Errorf("%s did not become ready at %s:\n%s", p.name, url, b)
}

// serveTarget serves a node-exporter-like gauge.
func serveTarget(ctx context.Context, name string, misbehaves bool, t0 time.Time) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		el := time.Since(t0).Seconds()
		v := 35 + 8*math.Sin(el/7)
		if misbehaves && el > 30 {
			v = math.Min(97, 35+(el-30)*3) + 2*math.Sin(el/3)
		}
		fmt.Fprintf(w, "# HELP demo_cpu_usage_percent CPU usage of the synthetic host.\n# TYPE demo_cpu_usage_percent gauge\ndemo_cpu_usage_percent{host=%q} %.3f\n", name, v)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return l.Addr().String(), nil
}

func alertPhase(promPort int) string {
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/alerts", promPort))
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var body struct {
		Data struct {
			Alerts []struct {
				State string `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if json.NewDecoder(res.Body).Decode(&body) != nil || len(body.Data.Alerts) == 0 {
		return "inactive"
	}
	return body.Data.Alerts[0].State
}

// inboxResult returns the newest message that has a chart image.
func inboxResult(dir string) (md, png string) {
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(pngs) == 0 {
		return "", ""
	}
	png = pngs[len(pngs)-1]
	mds, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	if len(mds) > 0 {
		md = mds[len(mds)-1]
	}
	return md, png
}
