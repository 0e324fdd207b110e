package standalone

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alertchart/alertchart/pkg/grafana"
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
// listens until Serve.
func New(ctx context.Context, cfg *Config, logger log.Logger) (*Server, error) {
	if logger == nil {
		logger = log.DefaultLogger
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	env := pipeline.Env{Logger: logger, Registerer: reg, GrafanaLinkURL: cfg.Server.GrafanaURL}
	if cfg.Grafana.URL != "" && cfg.Secrets[settings.SecretGrafanaToken] != "" {
		// A Grafana to read the template panel from, or to render through.
		env.Grafana = grafana.Credentials{URL: cfg.Grafana.URL, Token: cfg.Secrets[settings.SecretGrafanaToken],
			Source: grafana.SourceStoredToken, OrgID: cfg.Grafana.OrgID, Namespace: grafana.NamespaceForOrg(cfg.Grafana.OrgID)}
		if env.GrafanaLinkURL == "" {
			env.GrafanaLinkURL = cfg.Grafana.URL
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
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return s, nil
}

// Handler is the standalone server's routes: the plugin's resources plus
// /metrics, /healthz and the inbox pages.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	resources.Register(api, s)
	root := http.NewServeMux()
	root.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.registerInbox(root)
	root.Handle("/", s.protect(api))
	return root
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
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"missing or wrong bearer token (secureJsonData.webhookToken)"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Pipeline implements resources.Source.
func (s *Server) Pipeline() (*pipeline.Pipeline, error) { return s.pipe, nil }

// Health implements resources.Source.
func (s *Server) Health(ctx context.Context) resources.Health {
	checks := append([]pipeline.Check{{Name: "settings", Status: "ok", Message: "settings are valid"}}, s.pipe.Checks(ctx)...)
	return pipeline.Summarise(checks)
}

// Listen binds the configured address (so a port clash fails before Serve).
func (s *Server) Listen() (string, error) {
	l, err := net.Listen("tcp", s.cfg.Server.Listen)
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
