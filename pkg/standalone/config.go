// Package standalone runs AlertChart without Grafana: the same pipeline and
// the same HTTP routes as the plugin's resources, on a plain HTTP listener,
// with settings from a YAML file whose fields are the plugin's settings.
package standalone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Config is the standalone YAML file: the plugin's jsonData fields at the top
// level (prometheus, chart, channels, routes, imageStore, delivery, webhook),
// plus secureJsonData for secrets and server for the listener.
//
//	server:
//	  listen: 127.0.0.1:8080
//	prometheus:
//	  url: http://127.0.0.1:9090
//	channels:
//	  - name: ops-wecom
//	    type: wecom
//	routes:
//	  - receiver: ops
//	    channels: [ops-wecom]
//	secureJsonData:
//	  channels.ops-wecom.url: ${WECOM_WEBHOOK_URL}
//
// Secret values may be written as ${ENV_VAR}: they are read from the
// environment at start-up, so the file itself can be committed.
type Config struct {
	settings.Settings `yaml:",inline"`
	Server            ServerConfig      `yaml:"server"`
	SecureJSONData    map[string]string `yaml:"secureJsonData"`
}

// ServerConfig configures the standalone listener.
type ServerConfig struct {
	// Listen address (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// GrafanaURL is used for Explore links in messages (optional).
	GrafanaURL string `yaml:"grafanaUrl"`
	// AllowedHosts, when set, are the only Host header values the server
	// answers (421 otherwise): a name without a port matches any port.
	// It defeats DNS rebinding, where a web page's own host name is
	// pointed at the server's address so the browser treats it as
	// same-origin.
	AllowedHosts []string `yaml:"allowedHosts"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load reads, expands and validates a config file. Any problem is returned
// with the field path (or YAML line) so no half-configured server starts.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, os.LookupEnv)
}

// Parse is Load on bytes with an environment lookup function.
func Parse(b []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	var problems settings.ValidationError
	secrets := map[string]string{}
	for k, v := range c.SecureJSONData {
		var missing []string
		val := envRef.ReplaceAllStringFunc(v, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			x, ok := lookupEnv(name)
			if !ok {
				missing = append(missing, name)
			}
			return x
		})
		for _, m := range missing {
			problems = append(problems, settings.FieldError{Path: "secureJsonData." + k, Problem: "environment variable " + m + " is not set"})
		}
		secrets[k] = val
	}
	c.Settings.Secrets = secrets
	c.Settings.ApplyDefaults()
	if c.Server.Listen == "" {
		c.Server.Listen = "127.0.0.1:8080"
	}
	if err := c.Settings.Validate(); err != nil {
		var ve settings.ValidationError
		if errors.As(err, &ve) {
			problems = append(problems, ve...)
		} else {
			return nil, err
		}
	}
	for i, h := range c.Server.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			problems = append(problems, settings.FieldError{Path: fmt.Sprintf("server.allowedHosts[%d]", i),
				Problem: "must be a host name or host:port, e.g. alertchart.example.com"})
		}
	}
	for i, ch := range c.Channels {
		if ch.Type == "inbox" && strings.TrimSpace(ch.Dir) == "" {
			problems = append(problems, settings.FieldError{Path: fmt.Sprintf("channels[%d].dir", i), Problem: "the inbox channel needs a folder"})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

// Check builds everything the server would build from the settings — every
// channel, the data source client and the image store — without opening the
// queue or listening, so `alertchart -check` catches what start-up would.
func (c *Config) Check() error {
	var errs []error
	for _, ch := range c.Channels {
		if _, err := registry.New(ch, &c.Settings, registry.Deps{}); err != nil {
			errs = append(errs, fmt.Errorf("channels %s: %w", ch.Name, err))
		}
	}
	if pc, err := promapi.FromSettings(&c.Settings, c.Grafana.URL, ""); err == nil {
		if _, err := promapi.New(pc); err != nil {
			errs = append(errs, fmt.Errorf("prometheus: %w", err))
		}
	} else if !errors.Is(err, promapi.ErrNoDataSource) {
		errs = append(errs, fmt.Errorf("prometheus: %w", err))
	}
	if c.ImageStore.Endpoint != "" {
		if _, err := imagestore.FromSettings(&c.Settings, nil); err != nil {
			errs = append(errs, fmt.Errorf("imageStore: %w", err))
		}
	}
	return errors.Join(errs...)
}
