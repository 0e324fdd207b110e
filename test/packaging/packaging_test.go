// Package packaging checks what users install and run: plugin.json against
// Grafana's schema, the release zip's layout, that docker-compose.yaml and
// provisioning/ parse and reference each other consistently, and that the
// files comments and documents point a reader to exist.
package packaging

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"

	"github.com/alertchart/alertchart/pkg/settings"
)

const pluginID = "alertchart-webhook-app"

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// schemaPath is Grafana's plugin.json schema: the copy in ../shared beside
// the project when there is one, else the vendored copy in testdata.
func schemaPath(t *testing.T) string {
	p := filepath.Join(root(t), "..", "shared", "grafana", "plugin.schema.json")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	p, err := filepath.Abs(filepath.Join("testdata", "plugin.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func validatePluginJSON(t *testing.T, path string) {
	t.Helper()
	schema := gojsonschema.NewReferenceLoader("file://" + schemaPath(t))
	doc := gojsonschema.NewReferenceLoader("file://" + path)
	res, err := gojsonschema.Validate(schema, doc)
	if err != nil {
		t.Fatalf("validating %s: %v", path, err)
	}
	if !res.Valid() {
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", path, e)
		}
	}
}

func TestPluginJSONMatchesGrafanaSchema(t *testing.T) {
	src := filepath.Join(root(t), "src", "plugin.json")
	validatePluginJSON(t, src)
	var pj struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Backend    bool   `json:"backend"`
		Executable string `json:"executable"`
	}
	readJSON(t, src, &pj)
	if pj.ID != pluginID || pj.Type != "app" || !pj.Backend || pj.Executable != "gpx_alertchart" {
		t.Fatalf("plugin.json identity: %+v", pj)
	}
	// The top-level plugin.json is the same file (one source of truth).
	top, err := filepath.EvalSymlinks(filepath.Join(root(t), "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if top != src {
		t.Fatalf("plugin.json resolves to %s, want %s", top, src)
	}
	if dist := filepath.Join(root(t), "dist", "plugin.json"); fileExists(dist) {
		validatePluginJSON(t, dist)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestPackageZipLayout checks the zip `mage package` made, as grafana-cli
// --pluginUrl installs it. CI builds the zip before the tests run.
func TestPackageZipLayout(t *testing.T) {
	matches, _ := filepath.Glob(filepath.Join(root(t), pluginID+"-*.zip"))
	if p := os.Getenv("ALERTCHART_PACKAGE_ZIP"); p != "" {
		matches = []string{p}
	}
	if len(matches) == 0 {
		msg := "no " + pluginID + "-<version>.zip: run `npm run build && go run github.com/magefile/mage -v buildRelease package`"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, zp := range matches {
		zr, err := zip.OpenReader(zp)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		files := map[string]*zip.File{}
		for _, f := range zr.File {
			if !strings.HasPrefix(f.Name, pluginID+"/") {
				t.Errorf("%s: entry %q is outside the top-level %s/ folder", zp, f.Name, pluginID)
			}
			files[strings.TrimPrefix(f.Name, pluginID+"/")] = f
		}
		for _, want := range []string{"plugin.json", "module.js", "LICENSE", "README.md", "CHANGELOG.md", "img/logo.svg"} {
			if files[want] == nil {
				t.Errorf("%s: missing %s", zp, want)
			}
		}
		for _, bin := range []string{"gpx_alertchart_linux_amd64", "gpx_alertchart_linux_arm64", "gpx_alertchart_darwin_arm64", "gpx_alertchart_windows_amd64.exe"} {
			f := files[bin]
			if f == nil {
				t.Errorf("%s: missing backend %s", zp, bin)
				continue
			}
			if f.Mode()&0o111 == 0 {
				t.Errorf("%s: %s lacks the run bit (mode %v)", zp, bin, f.Mode())
			}
			if f.UncompressedSize64 < 1<<20 {
				t.Errorf("%s: %s is only %d bytes", zp, bin, f.UncompressedSize64)
			}
		}
		if f := files["plugin.json"]; f != nil {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			var pj struct {
				ID   string `json:"id"`
				Info struct {
					Version string `json:"version"`
					Updated string `json:"updated"`
				} `json:"info"`
			}
			if err := json.NewDecoder(rc).Decode(&pj); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			if pj.ID != pluginID || pj.Info.Version == "" || strings.Contains(pj.Info.Version+pj.Info.Updated, "%") {
				t.Errorf("%s: packaged plugin.json not filled in: %+v", zp, pj)
			}
			if !strings.HasSuffix(zp, pluginID+"-"+pj.Info.Version+".zip") {
				t.Errorf("%s: name does not carry version %s", zp, pj.Info.Version)
			}
		}
	}
}

func TestDockerComposeAndProvisioningAgree(t *testing.T) {
	r := root(t)
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Extends     map[string]string `yaml:"extends"`
			DependsOn   []string          `yaml:"depends_on"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	readYAML(t, filepath.Join(r, "docker-compose.yaml"), &compose)
	for _, s := range []string{"grafana", "renderer", "prometheus", "alertmanager", "node-exporter", "grafana-token"} {
		if _, ok := compose.Services[s]; !ok {
			t.Errorf("docker-compose.yaml: no %s service", s)
		}
	}
	for name, s := range compose.Services {
		for _, d := range s.DependsOn {
			if _, ok := compose.Services[d]; !ok {
				t.Errorf("service %s depends on unknown %s", name, d)
			}
		}
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if !fileExists(filepath.Join(r, src)) {
					t.Errorf("service %s mounts missing %s", name, src)
				}
			} else if _, ok := compose.Volumes[src]; !ok {
				t.Errorf("service %s mounts undeclared volume %s", name, src)
			}
		}
	}
	g := compose.Services["grafana"]
	if g.Extends["file"] != ".config/docker-compose-base.yaml" {
		t.Errorf("grafana does not extend the scaffold's base: %v", g.Extends)
	}
	var base struct {
		Services map[string]struct {
			Volumes     []string          `yaml:"volumes"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	readYAML(t, filepath.Join(r, ".config", "docker-compose-base.yaml"), &base)
	bg := base.Services["grafana"]
	if bg.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"] != pluginID {
		t.Errorf("the unsigned plugin is not allowed: %v", bg.Environment)
	}
	if !containsPrefix(bg.Volumes, "../dist:/var/lib/grafana/plugins/"+pluginID) || !containsPrefix(bg.Volumes, "../provisioning:/etc/grafana/provisioning") {
		t.Errorf("plugin or provisioning not mounted: %v", bg.Volumes)
	}
	if g.Environment["GF_RENDERING_RENDERER_TOKEN"] != compose.Services["renderer"].Environment["AUTH_TOKEN"] {
		t.Errorf("renderer token mismatch")
	}

	// Provisioned data source, app settings and template dashboard agree.
	var ds struct {
		Datasources []struct{ UID, Type, URL string } `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "datasources", "prometheus.yaml"), &ds)
	var apps struct {
		Apps []struct {
			Type           string            `yaml:"type"`
			JSONData       map[string]any    `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"apps"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "plugins", "apps.yaml"), &apps)
	if len(apps.Apps) != 1 || apps.Apps[0].Type != pluginID {
		t.Fatalf("apps.yaml: %+v", apps)
	}
	js, _ := json.Marshal(apps.Apps[0].JSONData)
	s, err := settings.Parse(js, apps.Apps[0].SecureJSONData)
	if err != nil {
		t.Fatalf("provisioned jsonData does not parse with the settings model: %v", err)
	}
	found := false
	for _, d := range ds.Datasources {
		if d.UID == s.Prometheus.DatasourceUID && d.Type == "prometheus" {
			found = true
			if !strings.Contains(d.URL, "prometheus:9090") {
				t.Errorf("data source URL %s", d.URL)
			}
		}
	}
	if !found {
		t.Errorf("apps.yaml prometheus.datasourceUid %q is not a provisioned data source", s.Prometheus.DatasourceUID)
	}
	// Alertmanager posts with the token of the service account the
	// grafana-token service creates; the app must name its login
	// (sa-<org id>-<name>), or every webhook is refused.
	script, err := os.ReadFile(filepath.Join(r, "provisioning", "scripts", "create-sa-token.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\{"name":"([a-z0-9-]+)","role"`).FindSubmatch(script)
	if m == nil {
		t.Fatalf("create-sa-token.sh: no service account name found")
	}
	if login := "sa-1-" + string(m[1]); !slices.Contains(s.Webhook.AllowedUsers, login) {
		t.Errorf("apps.yaml webhook.allowedUsers %v does not name the compose service account %s", s.Webhook.AllowedUsers, login)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"panels"`
	}
	readJSON(t, filepath.Join(r, "provisioning", "dashboards", "alertchart-template.json"), &dash)
	if dash.UID != s.Chart.TemplateDashboardUID {
		t.Errorf("template dashboard uid %q, settings say %q", dash.UID, s.Chart.TemplateDashboardUID)
	}
	okPanel := false
	for _, p := range dash.Panels {
		okPanel = okPanel || (p.ID == s.Chart.TemplatePanelID && p.Type == "timeseries")
	}
	if !okPanel {
		t.Errorf("template panel %d not found as a timeseries panel", s.Chart.TemplatePanelID)
	}

	// Alertmanager posts to the plugin's resource URL for a routed receiver,
	// with the token file the token job writes.
	var am struct {
		Route     struct{ Receiver string } `yaml:"route"`
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []struct {
				URL        string `yaml:"url"`
				HTTPConfig struct {
					Authorization struct {
						Type            string `yaml:"type"`
						CredentialsFile string `yaml:"credentials_file"`
					} `yaml:"authorization"`
				} `yaml:"http_config"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "alertmanager", "alertmanager.yml"), &am)
	if len(am.Receivers) == 0 || len(am.Receivers[0].WebhookConfigs) == 0 {
		t.Fatal("alertmanager.yml has no webhook receiver")
	}
	wc := am.Receivers[0].WebhookConfigs[0]
	prefix := "http://grafana:3000/api/plugins/" + pluginID + "/resources/webhook/"
	if !strings.HasPrefix(wc.URL, prefix) {
		t.Errorf("webhook url %s does not start with %s", wc.URL, prefix)
	}
	receiver := strings.TrimPrefix(wc.URL, prefix)
	if !s.ReceiverKnown(receiver) || len(s.ChannelsFor(receiver, nil)) == 0 {
		t.Errorf("receiver %q has no route in apps.yaml", receiver)
	}
	if wc.HTTPConfig.Authorization.Type != "Bearer" || compose.Services["grafana-token"].Environment["TOKEN_FILE"] != wc.HTTPConfig.Authorization.CredentialsFile {
		t.Errorf("bearer token file mismatch: %+v", wc.HTTPConfig.Authorization)
	}

	var prom struct {
		Alerting struct {
			Alertmanagers []struct {
				StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		RuleFiles []string `yaml:"rule_files"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "prometheus", "prometheus.yml"), &prom)
	if len(prom.Alerting.Alertmanagers) == 0 || prom.Alerting.Alertmanagers[0].StaticConfigs[0].Targets[0] != "alertmanager:9093" {
		t.Errorf("prometheus does not alert to alertmanager:9093")
	}
	for _, rf := range prom.RuleFiles {
		var rules struct {
			Groups []struct {
				Rules []struct {
					Alert string `yaml:"alert"`
					Expr  string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		readYAML(t, filepath.Join(r, "provisioning", "prometheus", rf), &rules)
		if len(rules.Groups) == 0 {
			t.Errorf("%s has no groups", rf)
		}
	}
}

func containsPrefix(list []string, p string) bool {
	for _, x := range list {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}
