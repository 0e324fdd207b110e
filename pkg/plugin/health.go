package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Check is one line of the health report.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok | warning | error
	Message string `json:"message"`
}

// Health is the JSON health report (GET /health) behind CheckHealth.
type Health struct {
	Status  string  `json:"status"`
	Message string  `json:"message"`
	Checks  []Check `json:"checks"`
}

func (a *App) health(ctx context.Context) Health {
	var checks []Check
	if a.settingsErr != nil {
		checks = append(checks, Check{"settings", "error", a.settingsErr.Error()})
	} else {
		s := a.settings
		checks = append(checks, Check{"settings", "ok", "settings are valid"})
		if len(s.Channels) == 0 {
			checks = append(checks, Check{"channels", "warning", "no chat channel is configured: alerts are accepted but go nowhere"})
		} else {
			checks = append(checks, Check{"channels", "ok", fmt.Sprintf("%d channel(s) configured", len(s.Channels))})
		}
		if s.Prometheus.URL == "" && s.Prometheus.DatasourceUID == "" {
			checks = append(checks, Check{"prometheus", "warning", "no Prometheus data source: alerts are sent as text without charts"})
		}
	}
	return summarise(checks)
}

func summarise(checks []Check) Health {
	h := Health{Status: "ok", Checks: checks}
	var problems []string
	for _, c := range checks {
		switch c.Status {
		case "error":
			h.Status = "error"
			problems = append(problems, c.Message)
		case "warning":
			if h.Status == "ok" {
				h.Status = "warning"
			}
			problems = append(problems, c.Message)
		}
	}
	if len(problems) == 0 {
		h.Message = "AlertChart is ready"
	} else {
		h.Message = strings.Join(problems, "; ")
	}
	return h
}

// CheckHealth reports configuration problems in plain words. Warnings keep
// the status OK (Grafana shows the message) because alerts still flow.
func (a *App) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	h := a.health(ctx)
	status := backend.HealthStatusOk
	if h.Status == "error" {
		status = backend.HealthStatusError
	}
	return &backend.CheckHealthResult{Status: status, Message: h.Message}, nil
}
