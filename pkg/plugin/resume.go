package plugin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// Resuming after a restart.
//
// Grafana starts a backend plugin's process when Grafana starts, and calls
// nothing that carries an app's settings until a request for the app
// arrives (a resource call, a health check): the SDK builds an instance
// lazily, from the settings in the request's PluginContext. So a plugin
// that crashed, or a Grafana that restarted, with alerts still queued
// would send nothing until the next webhook or page visit.
//
// What the process does have, when plugin.json's "iam" makes Grafana create
// a managed service account for it, is Grafana's URL (GF_APP_URL) and that
// account's token (GF_PLUGIN_APP_CLIENT_SECRET) in its environment.
// Grafana's GET /api/plugins/<id>/health needs only a signed-in identity,
// and answers by calling CheckHealth with the caller's organisation's full
// PluginContext, settings and secrets included: that builds the instance,
// which opens the queue and resumes. The managed account lives in the main
// organisation, so this resumes organisation 1 (and every organisation on
// the same queue database whose instance exists); another organisation's
// backlog waits for its first request, and its health check shows it.

// resumeTimeout is how long the process keeps asking Grafana, which may
// start its HTTP server after its plugins.
const resumeTimeout = 10 * time.Minute

// ResumeAtStart asks Grafana in the background to build the main
// organisation's instance at once, when the environment has what that
// takes (see above); it returns at once. ctx ends the attempts.
func ResumeAtStart(ctx context.Context, logger log.Logger) {
	appURL := strings.TrimRight(os.Getenv("GF_APP_URL"), "/")
	token := os.Getenv("GF_PLUGIN_APP_CLIENT_SECRET")
	if appURL == "" || token == "" {
		logger.Info("AlertChart resumes queued deliveries when Grafana first calls it (no managed service account in the environment to ask sooner)")
		return
	}
	go func() {
		if err := resume(ctx, &http.Client{Timeout: 30 * time.Second}, appURL, token, time.Second); err != nil {
			logger.Warn("AlertChart could not ask Grafana to start it; queued deliveries resume at Grafana's first call", "error", err.Error())
			return
		}
		logger.Info("AlertChart asked Grafana for its health check: the main organisation's deliveries resume")
	}()
}

// resume calls Grafana's health route for the plugin until Grafana has
// answered it (whatever the health), retrying with backoff from first
// while Grafana does not answer or cannot reach the plugin yet.
func resume(ctx context.Context, client *http.Client, appURL, token string, first time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	wait := first
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("Grafana at %s did not answer within %s", appURL, resumeTimeout)
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, appURL+"/api/plugins/"+PluginID+"/health", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			continue // not up yet
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusBadRequest:
			// 400 is Grafana's answer for a health check that is not OK:
			// the instance was built all the same.
			return nil
		case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
			return fmt.Errorf("Grafana refused the managed service account (%d)", res.StatusCode)
		}
		// 5xx: Grafana is up but cannot call the plugin yet.
	}
}
