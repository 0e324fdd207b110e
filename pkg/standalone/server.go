package standalone

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/resources"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Server is a running standalone AlertChart.
type Server struct {
	cfg      *Config
	pipe     *pipeline.Pipeline
	registry *prometheus.Registry
	http     *http.Server
	listener net.Listener
	logger   log.Logger
}

// New builds the pipeline (opening the queue) and the HTTP routes; nothing
// listens until Serve. A data directory another user could read or change
// stops it with an *delivery.UnsafeDataDirError.
func New(ctx context.Context, cfg *Config, logger log.Logger) (*Server, error) {
	if logger == nil {
		logger = log.DefaultLogger
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A PostgreSQL queue that is not up yet (a host or cluster restart) is
	// retried in the background, the webhook answering 503 meanwhile; a
	// SQLite queue that cannot open (a locked or unwritable data directory)
	// stops the server at once. Either way, what is queued resumes as soon
	// as the queue opens: there is no instance to wait for.
	env := pipeline.Env{Logger: logger, Registerer: reg, GrafanaLinkURL: cfg.Server.GrafanaURL,
		RetryQueue: cfg.Delivery.Queue == "postgres"}
	if cfg.Grafana.URL != "" && cfg.Secrets[settings.SecretGrafanaToken] != "" {
		// A Grafana to read the template panel from, or to render through.
		env.Grafana = grafana.Credentials{URL: cfg.Grafana.URL, Token: cfg.Secrets[settings.SecretGrafanaToken],
			Source: grafana.SourceStoredToken, OrgID: cfg.Grafana.OrgID, Namespace: grafana.NamespaceForOrg(cfg.Grafana.OrgID)}
		if env.GrafanaLinkURL == "" {
			env.GrafanaLinkURL = cfg.Grafana.URL
		}
	}
	if cfg.Delivery.Queue != "postgres" {
		dir, _ := delivery.ChooseDataDir(&cfg.Settings)
		if err := delivery.SecureDataDir(dir); err != nil {
			return nil, err
		}
	}
	p, err := pipeline.New(ctx, &cfg.Settings, env)
	if err != nil {
		return nil, err
	}
	if errs := p.ConfigErrors(); len(errs) > 0 {
		_ = p.Close(ctx)
		return nil, fmt.Errorf("invalid settings: %w", errors.Join(errs...))
	}
	s := &Server{cfg: cfg, pipe: p, registry: reg, logger: logger}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// A 4 MiB webhook over a slow link, and a preview that renders.
		ReadTimeout:    time.Minute,
		WriteTimeout:   2 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
	if w := cfg.SecurityWarning(); w != "" {
		logger.Warn(w)
	}
	return s, nil
}

// SecurityWarning is what to shout at start when the API is open to anyone
// who reaches the listener ("" when secureJsonData.webhookToken is set).
func (c *Config) SecurityWarning() string {
	if c.Secrets[settings.SecretWebhookToken] != "" {
		return ""
	}
	return "SECURITY WARNING: secureJsonData.webhookToken is not set. Anyone who can reach " + c.Server.Listen +
		" can post alerts into your chat groups, read every delivery record and send channel tests. " +
		"Set webhookToken (e.g. openssl rand -hex 32) and keep the listener on loopback or a private network; " +
		"server.allowedHosts guards against DNS rebinding."
}

// Handler is the standalone server's routes: the plugin's resources plus
// /metrics, /healthz and the inbox pages, behind the Host and cross-site
// checks.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	resources.Register(api, s, resources.Options{
		// Whoever passed protect holds the token (or there is none): the
		// standalone server has no users and no roles below Admin.
		Caller: func(*http.Request) resources.Caller {
			return resources.Caller{Role: resources.RoleAdmin, Alertmanager: true}
		},
		RequireJSON: true,
	})
	root := http.NewServeMux()
	root.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.registerInbox(root)
	root.Handle("/", s.protect(api))
	return s.sameSite(s.knownHost(root))
}

// knownHost answers 421 to a Host header not in server.allowedHosts (when
// set): a DNS-rebinding page reaches the server under its own name.
func (s *Server) knownHost(next http.Handler) http.Handler {
	allowed := s.cfg.Server.AllowedHosts
	if len(allowed) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, allowed) {
			intake.WriteError(w, &intake.Error{Status: http.StatusMisdirectedRequest,
				Msg: "host " + strconv.Quote(r.Host) + " is not in server.allowedHosts"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hostAllowed(host string, allowed []string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, a := range allowed {
		if strings.EqualFold(a, host) {
			return true
		}
		if _, _, err := net.SplitHostPort(a); err != nil && strings.EqualFold(strings.Trim(a, "[]"), strings.Trim(name, "[]")) {
			return true
		}
	}
	return false
}

// sameSite refuses state-changing requests a page on another site makes
// the browser send (Sec-Fetch-Site, else Origin): without a token, a web
// page could otherwise post alerts or channel tests to a server on the
// visitor's loopback. Safe methods stay open so a link to /inbox works.
func (s *Server) sameSite(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			if problem := crossSite(r); problem != "" {
				intake.WriteError(w, &intake.Error{Status: http.StatusForbidden, Msg: "cross-site request refused: " + problem})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func crossSite(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "Sec-Fetch-Site is " + site
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return "Origin " + strconv.Quote(origin) + " is not this server (" + r.Host + ")"
	}
	return ""
}

// protect requires secureJsonData.webhookToken as a bearer token when set.
func (s *Server) protect(next http.Handler) http.Handler {
	token := s.cfg.Secrets[settings.SecretWebhookToken]
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="alertchart"`)
			intake.WriteError(w, &intake.Error{Status: http.StatusUnauthorized, Msg: "missing or wrong bearer token (secureJsonData.webhookToken)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Pipeline implements resources.Source.
func (s *Server) Pipeline() (*pipeline.Pipeline, error) { return s.pipe, nil }

// Health implements resources.Source.
func (s *Server) Health(ctx context.Context) resources.Health {
	return pipeline.Report(ctx, s.cfg.Secrets, nil, s.pipe, nil, pipeline.StandaloneWebhook(&s.cfg.Settings, s.cfg.Server.Listen))
}

// Listen binds the configured address (so a port clash fails before Serve).
func (s *Server) Listen() (string, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", s.cfg.Server.Listen)
	if err != nil {
		return "", err
	}
	s.listener = l
	return l.Addr().String(), nil
}

// Serve answers requests until ctx ends, then shuts down gracefully: the
// listener closes, in-flight requests finish, and the delivery queue
// finishes or re-queues its work.
func (s *Server) Serve(ctx context.Context) error {
	if s.listener == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	select {
	case err := <-errc:
		_ = s.pipe.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	herr := s.http.Shutdown(shutdown)
	perr := s.pipe.Close(shutdown)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(herr, perr)
}
