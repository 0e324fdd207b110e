// Package grafana is AlertChart's client for the Grafana it runs inside:
// dashboards, folders, search, Grafana-managed alert rules (the provisioning
// API) and data sources through grafana-openapi-client-go, and the endpoints
// that client lacks or cannot decode (the image renderer's /render, the
// /apis/dashboard.grafana.app and /apis/rules.alerting.grafana.app resource
// APIs, /api/ds/query with its data frames, read with the plugin SDK's data
// package) through plain HTTP with the same credentials. Errors are written for the person configuring the plugin: a
// 401 says which token was rejected, a 403 says which permission is missing.
package grafana

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/config"

	"github.com/alertchart/alertchart/pkg/settings"
)

// Credential sources, reported in health checks and explain output.
const (
	SourceManagedServiceAccount = "managed service account"
	SourceStoredToken           = "service account token from secureJsonData.grafanaToken"
)

// Credentials say where Grafana is and how the plugin authenticates to it.
// Token is a secret: never log or return it.
type Credentials struct {
	// URL is Grafana's base URL, e.g. "http://grafana:3000/" or
	// "https://example.com/grafana/" (a sub-path is kept).
	URL string
	// Token is a service account token sent as "Authorization: Bearer".
	Token string
	// Source says where the token came from (SourceManagedServiceAccount or
	// SourceStoredToken).
	Source string
	// OrgID is the organisation the token belongs to (settings grafana.orgId,
	// default 1); used for the render URL's orgId.
	OrgID int64
	// Namespace is the /apis namespace: "default" for org 1, "org-<id>"
	// otherwise (NamespaceForOrg). The plugin replaces it with the one
	// Grafana puts in the request's plugin context (Grafana Cloud's
	// "stacks-<id>"); the plugin SDK's backend package is left to the
	// plugin wiring, so this client stays free of its gRPC stack.
	Namespace string
}

// ResolveCredentials finds Grafana's URL and a token for the plugin.
//
// URL: settings grafana.url when set (root_url is often not reachable from
// the plugin process), else GF_APP_URL from the SDK's Grafana config in ctx
// (or the environment). Token: the managed service account token
// (GF_PLUGIN_APP_CLIENT_SECRET, plugin.json "iam"), else the stored
// secureJsonData.grafanaToken.
func ResolveCredentials(ctx context.Context, s *settings.Settings) (Credentials, error) {
	if s == nil {
		return Credentials{}, errors.New("grafana credentials: no settings")
	}
	cfg := config.GrafanaConfigFromContext(ctx)
	creds := Credentials{OrgID: s.Grafana.OrgID}
	if creds.OrgID <= 0 {
		creds.OrgID = 1
	}

	if u := strings.TrimSpace(s.Grafana.URL); u != "" {
		creds.URL = u
	} else {
		appURL, err := cfg.AppURL()
		if err != nil || strings.TrimSpace(appURL) == "" {
			return Credentials{}, errors.New("Grafana's URL is unknown: Grafana did not send GF_APP_URL (root_url); " +
				"set grafana.url in the plugin settings to an address the plugin can reach")
		}
		creds.URL = strings.TrimSpace(appURL)
	}
	if err := checkBaseURL(creds.URL); err != nil {
		return Credentials{}, err
	}

	if tok, err := cfg.PluginAppClientSecret(); err == nil && strings.TrimSpace(tok) != "" {
		creds.Token = strings.TrimSpace(tok)
		creds.Source = SourceManagedServiceAccount
	} else if tok := strings.TrimSpace(s.Secrets[settings.SecretGrafanaToken]); tok != "" {
		creds.Token = tok
		creds.Source = SourceStoredToken
	} else {
		return Credentials{}, errors.New("no credentials to call Grafana: Grafana did not provide a managed service account token " +
			"(needs Grafana 10.3+ with [auth] managed_service_accounts_enabled = true and the externalServiceAccounts feature toggle), " +
			"and no service account token is stored in secureJsonData.grafanaToken")
	}

	creds.Namespace = NamespaceForOrg(creds.OrgID)
	return creds, nil
}

// NamespaceForOrg is the /apis namespace of an on-premises organisation.
func NamespaceForOrg(orgID int64) string {
	if orgID <= 1 {
		return "default"
	}
	return "org-" + strconv.FormatInt(orgID, 10)
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("Grafana URL %q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("Grafana URL %q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("Grafana URL %q has no host", raw)
	}
	return nil
}
