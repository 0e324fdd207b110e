// Package deliverytest runs the delivery pipeline in child processes so tests
// can kill -9 them: crash recovery, HA failover on a shared PostgreSQL queue,
// and a real-time storm against a robot limited to 20 messages per minute.
//
// The child is this test binary itself, started with DELIVERYTEST_CHILD set
// to a JSON childConfig: TestMain then runs a delivery.Service behind a tiny
// webhook server instead of the tests. Its notifier posts every message to a
// recorder in the parent process, so what was delivered survives the child.
package deliverytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/settings"
)

const childEnv = "DELIVERYTEST_CHILD"

// childConfig is what the parent tells a child.
type childConfig struct {
	Name        string        `json:"name"`
	DataDir     string        `json:"dataDir"`
	PostgresDSN string        `json:"postgresDsn,omitempty"`
	Recorder    string        `json:"recorder"`
	AddrFile    string        `json:"addrFile"`
	PerMinute   int           `json:"perMinute"`
	RateWindow  time.Duration `json:"rateWindow,omitempty"`
	JobTimeout  time.Duration `json:"jobTimeout,omitempty"`
	RescueAfter time.Duration `json:"rescueAfter,omitempty"`
	SendTimeout time.Duration `json:"sendTimeout,omitempty"`
	Chart       bool          `json:"chart"`
	// WeComURL, when set, makes the channel a real WeCom notifier
	// (pkg/channels/wecom, built by the registry) posting to this robot
	// URL, instead of the recorder's notifier.
	WeComURL string `json:"wecomUrl,omitempty"`
}

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		var cfg childConfig
		if err := json.Unmarshal([]byte(c), &cfg); err != nil {
			fmt.Fprintln(os.Stderr, "child config:", err)
			os.Exit(2)
		}
		if err := runChild(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// recorderNotifier posts each message to the parent's recorder, which plays
// a WeCom robot: errcode 45009 when its per-minute limit is exceeded.
type recorderNotifier struct {
	url       string
	perMinute int
	client    *http.Client
}

// recordedMessage is what the recorder receives.
type recordedMessage struct {
	From   string   `json:"from"`
	Part   string   `json:"part"`
	Digest bool     `json:"digest"`
	Chart  bool     `json:"chart"`
	Note   string   `json:"note"`
	FPs    []string `json:"fps"`
}

func (n *recorderNotifier) Name() string { return "robot" }
func (n *recorderNotifier) Type() string { return "wecom" }
func (n *recorderNotifier) Limits() channels.Limits {
	return channels.Limits{PerMinute: n.perMinute, MessagesPerSend: 2}
}

func (n *recorderNotifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	rm := recordedMessage{From: os.Getenv("DELIVERYTEST_NAME"), Part: string(m.Part), Digest: m.Digest, Chart: m.Chart != nil, Note: m.ChartNote}
	for _, a := range m.Data.Alerts {
		rm.FPs = append(rm.FPs, a.Fingerprint)
	}
	body, _ := json.Marshal(rm)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return nil, &channels.Error{Kind: channels.Permanent, Msg: err.Error()}
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, &channels.Error{Kind: channels.Retryable, Msg: "request failed", Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	res := &channels.Result{StatusCode: resp.StatusCode, Body: string(b), Requests: 1}
	var ans struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
	}
	if resp.StatusCode >= 500 {
		return res, &channels.Error{Kind: channels.Retryable, StatusCode: resp.StatusCode, Msg: "server error"}
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return res, &channels.Error{Kind: channels.Retryable, StatusCode: resp.StatusCode, Msg: "unreadable answer"}
	}
	switch ans.Errcode {
	case 0:
		return res, nil
	case 45009:
		return res, &channels.Error{Kind: channels.Retryable, StatusCode: 200, Code: 45009, Msg: ans.Errmsg}
	default:
		return res, &channels.Error{Kind: channels.Permanent, StatusCode: 200, Code: ans.Errcode, Msg: ans.Errmsg}
	}
}

// quickCharter answers at once with a tiny image.
type quickCharter struct{}

func (quickCharter) Chart(context.Context, string, template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	return &channels.Chart{Image: []byte("\x89PNG\r\n\x1a\nfake"), ContentType: "image/png"}, channels.ChartInfo{Renderer: "native"}, nil
}

// Overview makes digests carry an overview image too, so the storm and HA
// tests hold the robot's limit with those images in play.
func (quickCharter) Overview(context.Context, string, []template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	return &channels.Chart{Image: []byte("\x89PNG\r\n\x1a\noverview"), ContentType: "image/png"}, channels.ChartInfo{Renderer: "native"}, nil
}

func runChild(cfg childConfig) error {
	os.Setenv("DELIVERYTEST_NAME", cfg.Name)
	s := &settings.Settings{Channels: []settings.Channel{{Name: "robot", Type: "wecom"}}}
	if cfg.PostgresDSN != "" {
		s.Delivery.Queue = "postgres"
		s.Secrets = map[string]string{settings.SecretPostgresDSN: cfg.PostgresDSN}
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return err
	}
	var robot channels.Notifier = &recorderNotifier{url: cfg.Recorder, perMinute: cfg.PerMinute, client: &http.Client{Timeout: 10 * time.Second}}
	if cfg.WeComURL != "" {
		if s.Secrets == nil {
			s.Secrets = map[string]string{}
		}
		s.Secrets[settings.ChannelSecretKey("robot", settings.SecretURL)] = cfg.WeComURL
		s.Chart.Language = "zh"
		n, err := registry.New(s.Channels[0], s, registry.Deps{})
		if err != nil {
			return err
		}
		robot = n
	}
	dcfg := delivery.Config{
		Settings:    s,
		DataDir:     cfg.DataDir,
		Notifiers:   map[string]channels.Notifier{"robot": robot},
		Registerer:  prometheus.NewRegistry(),
		Logger:      log.New(),
		RateWindow:  cfg.RateWindow,
		JobTimeout:  cfg.JobTimeout,
		RescueAfter: cfg.RescueAfter,
		SendTimeout: cfg.SendTimeout,
	}
	if cfg.Chart {
		dcfg.Charter = quickCharter{}
	}
	ctx := context.Background()
	svc, err := delivery.Open(ctx, dcfg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		var d template.Data
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&d); err != nil {
			http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
			return
		}
		// Accept trusts its caller (intake validates); every error is a retry.
		res, err := svc.Accept(r.Context(), "ops", &d)
		switch {
		case err != nil:
			http.Error(w, `{"error":"try again"}`, http.StatusServiceUnavailable)
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "accepted", "id": res.ID, "alerts": res.Alerts, "duplicates": res.Duplicates})
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tmp := cfg.AddrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, cfg.AddrFile); err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return svc.Close(sctx)
}

// ---- parent side ----

type child struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

func startChild(t *testing.T, cfg childConfig) *child {
	t.Helper()
	cfg.AddrFile = filepath.Join(t.TempDir(), "addr")
	b, _ := json.Marshal(cfg)
	c := &child{stderr: &bytes.Buffer{}}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	c.cmd.Stderr = c.stderr
	c.cmd.Stdout = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_, _ = c.cmd.Process.Wait()
		}
		if t.Failed() {
			t.Logf("child %s output:\n%s", cfg.Name, c.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if a, err := os.ReadFile(cfg.AddrFile); err == nil {
			c.addr = string(a)
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("child %s did not start: %s", cfg.Name, c.stderr.String())
	return nil
}

// kill9 kills the child without a chance to clean up.
func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = c.cmd.Process.Wait()
}

// stop asks the child to shut down gracefully.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = c.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		t.Errorf("child did not stop within 20s")
	}
}

// rssPeakMB reads the child's peak resident memory (Linux).
func (c *child) rssPeakMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	var kb float64
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmHWM:")) {
			_, _ = fmt.Sscanf(string(bytes.TrimPrefix(line, []byte("VmHWM:"))), "%f", &kb)
		}
	}
	return kb / 1024
}
