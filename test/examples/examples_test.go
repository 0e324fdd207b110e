// Package examples proves that the user documentation's configurations
// work: every examples/standalone/*.yaml file, and every YAML block of
// docs/channels.md and docs/standalone.md, is parsed the way AlertChart
// parses it, every channel in it is built with registry.New, and each one
// sends the config page's test message to a contract-enforcing fake of its
// platform (test/fakes) set up with the example's own credentials — so a
// field or secret name that drifted from the code, a secret in the wrong
// key, or a URL-only platform without an image store fails here, not for a
// user.
//
// Doc blocks say what they are on their first line:
//
//	# standalone …    a standalone config (standalone.Parse)
//	# provisioning …  a Grafana provisioning/plugins/*.yaml file (jsonData through settings.Parse)
//	# alertmanager …  an Alertmanager configuration (alertmanager config.Load)
//
// An unmarked YAML block is an error: nothing in the docs goes untested.
package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/channels/webhook"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/pkg/standalone"
	fakedingtalk "github.com/alertchart/alertchart/test/fakes/dingtalk"
	fakediscord "github.com/alertchart/alertchart/test/fakes/discord"
	fakefeishu "github.com/alertchart/alertchart/test/fakes/feishu"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	fakeslack "github.com/alertchart/alertchart/test/fakes/slack"
	faketeams "github.com/alertchart/alertchart/test/fakes/teams"
	faketelegram "github.com/alertchart/alertchart/test/fakes/telegram"
	fakewebhook "github.com/alertchart/alertchart/test/fakes/webhook"
	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
)

const root = "../.."

// fakeEnv holds a plausible value for every variable the examples and docs
// reference, shaped like the real thing (secretShapes checks each channel
// got the right kind of value, so a DingTalk URL in a WeCom channel fails).
var fakeEnv = map[string]string{
	"ALERTCHART_WEBHOOK_TOKEN": "8f14e45fceea167a5a36dedd4bea2543b6d6f1b0a5e4c3d2e1f0a9b8c7d6e5f4",
	"WECOM_WEBHOOK_URL":        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37",
	"DINGTALK_WEBHOOK_URL":     "https://oapi.dingtalk.com/robot/send?access_token=1f8e5b6c7d2a9e0f3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a",
	"DINGTALK_SECRET":          "SEC5d41402abc4b2a76b9719d911017c592a8c3e9f1b2d4e6f8a0c2e4f6a8b0c2d4",
	"FEISHU_WEBHOOK_URL":       "https://open.feishu.cn/open-apis/bot/v2/hook/2f7c6d1e-8a4b-4c3d-9e5f-1a2b3c4d5e6f",
	"FEISHU_SECRET":            "qN3xT8vR2kL5mW9pZ1cY4b",
	"FEISHU_APP_SECRET":        "Xk2mP9qR4sT7vW1yZ3bC6dF8gH0jK5nL",
	"LARK_WEBHOOK_URL":         "https://open.larksuite.com/open-apis/bot/v2/hook/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
	"LARK_SECRET":              "hT5kW8nQ2rV6yB9cE3fJ7m",
	"TEAMS_WORKFLOW_URL":       "https://prod-23.westeurope.logic.azure.com:443/workflows/8c1a4f0e2b9d4e7fa3c56b7d8e9f0a1b/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zx3kQ9mV2pL7rT4wN8bC1dF6gH0jK5sY3uE2iO9aR7t",
	"SLACK_BOT_TOKEN":          "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
	"SLACK_WEBHOOK_URL":        "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx",
	"TELEGRAM_BOT_TOKEN":       "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
	"DISCORD_WEBHOOK_URL":      "https://discord.com/api/webhooks/1234567890123456789/Xy9kLm3NpQr5StUv7WxYz1AbCdEf3GhIj5KlMn7OpQr9StUv1WxYz3AbCdEf5GhIj7KlMn",
	"ALERT_WEBHOOK_URL":        "https://hooks.example.com/alertchart",
	"ALERT_WEBHOOK_TOKEN":      "whk_4c2a9e7f1b3d5a8c0e6f2b4d7a9c1e3f",
	"ALERT_WEBHOOK_SECRET":     "d2h5c2VjcmV0LWZvci1obWFjLXNpZ25pbmc",
	"IMAGE_STORE_ACCESS_KEY":   "AKIAIOSFODNN7EXAMPLE",
	"IMAGE_STORE_SECRET_KEY":   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"AWS_ACCESS_KEY_ID":        "AKIAIOSFODNN7EXAMPLE",
	"AWS_SECRET_ACCESS_KEY":    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"OSS_ACCESS_KEY_ID":        "LTAI5tQ7rX2mN9pK4sV8wY1z",
	"OSS_ACCESS_KEY_SECRET":    "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0",
	"COS_SECRET_ID":            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
	"COS_SECRET_KEY":           "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
	"MINIO_ACCESS_KEY":         "alertchart",
	"MINIO_SECRET_KEY":         "minio-secret-key-change-me",
	"PROMETHEUS_PASSWORD":      "pr0m-basic-auth-password",
	"GRAFANA_TOKEN":            "glsa_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c_1a2b3c4d",
}

func lookupEnv(name string) (string, bool) {
	v, ok := fakeEnv[name]
	return v, ok
}

// secretShapes lists, per channel type, what a real value of each secret
// the platform's spec names looks like (TestSecretShapesCoverTheSpecs keeps
// the two in step).
var secretShapes = map[string]map[string]*regexp.Regexp{
	"wecom": {settings.SecretURL: regexp.MustCompile(`^https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=[0-9a-f-]{36}$`)},
	"dingtalk": {
		settings.SecretURL:    regexp.MustCompile(`^https://oapi\.dingtalk\.com/robot/send\?access_token=[0-9a-f]{64}$`),
		settings.SecretSecret: regexp.MustCompile(`^SEC[0-9a-f]{64}$`),
	},
	"feishu": {
		settings.SecretURL:       regexp.MustCompile(`^https://open\.(feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/[0-9a-f-]{36}$`),
		settings.SecretSecret:    regexp.MustCompile(`^[A-Za-z0-9]{16,}$`),
		settings.SecretAppSecret: regexp.MustCompile(`^[A-Za-z0-9]{32}$`),
	},
	"teams": {settings.SecretURL: regexp.MustCompile(`^https://[a-z0-9.-]+\.(logic\.azure\.com|api\.powerplatform\.com)(:443)?/.*[?&]sig=[A-Za-z0-9%_-]+`)},
	"slack": {
		settings.SecretURL:   regexp.MustCompile(`^https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+$`),
		settings.SecretToken: regexp.MustCompile(`^xoxb-[0-9]+-[0-9]+-[A-Za-z0-9]+$`),
	},
	"telegram": {settings.SecretToken: regexp.MustCompile(`^[0-9]{6,}:[A-Za-z0-9_-]{30,}$`)},
	"discord":  {settings.SecretURL: regexp.MustCompile(`^https://discord\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,}$`)},
	"webhook": {
		settings.SecretURL:    regexp.MustCompile(`^https?://[^/\s]+(/\S*)?$`),
		settings.SecretToken:  regexp.MustCompile(`^\S{16,}$`),
		settings.SecretSecret: regexp.MustCompile(`^\S{16,}$`),
	},
	"inbox": {},
}

var topLevelSecrets = map[string]bool{
	settings.SecretPrometheusPassword: true, settings.SecretPrometheusToken: true, settings.SecretGrafanaToken: true,
	settings.SecretImageStoreAccess: true, settings.SecretImageStoreSecret: true, settings.SecretPostgresDSN: true,
	settings.SecretWebhookToken: true,
}

// checkSettings builds everything AlertChart builds from s at start-up
// (pipeline.ConfigErrors: channels, image store, Prometheus client) and
// checks secrets go where the code reads them. It returns the channel types
// it built.
func checkSettings(t *testing.T, where string, s *settings.Settings, grafanaURL, grafanaToken string) []string {
	t.Helper()
	for key := range s.Secrets {
		if topLevelSecrets[key] || (strings.HasPrefix(key, settings.PrometheusHeaderPrefix) && len(key) > len(settings.PrometheusHeaderPrefix)) {
			continue
		}
		rest, ok := strings.CutPrefix(key, "channels.")
		i := strings.LastIndex(rest, ".")
		if !ok || i <= 0 {
			t.Errorf("%s: secureJsonData key %q is not one AlertChart reads", where, key)
			continue
		}
		ch, found := s.Channel(rest[:i])
		if !found {
			t.Errorf("%s: secureJsonData key %q names no configured channel", where, key)
			continue
		}
		if spec, _ := registry.Lookup(ch.Type); !slices.ContainsFunc(spec.Secrets, func(s channels.SecretSpec) bool { return s.Field == rest[i+1:] }) {
			t.Errorf("%s: secureJsonData key %q: a %s channel does not read %q", where, key, ch.Type, rest[i+1:])
		}
	}
	store, err := imagestore.FromSettings(s, nil)
	if err != nil {
		t.Errorf("%s: image store: %v", where, err)
	}
	if store != nil && s.ImageStore.Region == "" {
		t.Errorf("%s: imageStore.region is empty: set it (MinIO: us-east-1), else the first upload asks the bucket for its location, which needs one more permission", where)
	}
	if s.Prometheus.URL != "" || s.Prometheus.DatasourceUID != "" {
		cfg, err := promapi.FromSettings(s, grafanaURL, grafanaToken)
		if err == nil {
			_, err = promapi.New(cfg)
		}
		if err != nil {
			t.Errorf("%s: prometheus: %v", where, err)
		}
	} else {
		t.Errorf("%s: no prometheus.url or prometheus.datasourceUid: charts would have no data", where)
	}
	var types []string
	for _, ch := range s.Channels {
		built := ch
		if ch.Type == "inbox" {
			built.Dir = t.TempDir() // registry.New creates the folder
		}
		deps := registry.Deps{}
		if store != nil {
			deps.Images = store
		}
		if _, err := registry.New(built, s, deps); err != nil {
			t.Errorf("%s: channel %s: %v", where, ch.Name, err)
			continue
		}
		types = append(types, ch.Type)
		deliver(t, where, s, ch, store != nil)
		for field, re := range secretShapes[ch.Type] {
			if v := s.ChannelSecret(ch.Name, field); v != "" && !re.MatchString(v) {
				t.Errorf("%s: channel %s (%s): secret %q does not look like a real one (want %s); is the wrong variable used?", where, ch.Name, ch.Type, field, re)
			}
		}
		checkChannelFields(t, where, ch, s)
	}
	return types
}

// deliver sends the config page's test message through ch to a fake of
// its platform that accepts exactly the credentials the example holds (the
// robot key, DingTalk's SEC secret and keyword, Feishu's signing secret and
// app, the Teams sig, the Slack channel, the Telegram chat, …), with the
// fakes enforcing the platforms' contracts. Only the host is swapped, via
// apiUrl. When the example configures an image store, a local S3 fake
// stands in for it; when it does not, a platform that needs one shows up as
// a degraded send ("chart unavailable"), which fails the test.
func deliver(t *testing.T, where string, s *settings.Settings, ch settings.Channel, hasStore bool) {
	t.Helper()
	secret := func(f string) string { return s.ChannelSecret(ch.Name, f) }
	parse := func(f string) *url.URL {
		u, err := url.Parse(secret(f))
		if err != nil {
			t.Fatalf("%s: channel %s: %v", where, ch.Name, err)
		}
		return u
	}
	sent := ch
	var delivered func() bool
	closeFake := func(c interface{ Close() }) { t.Cleanup(c.Close) }
	switch ch.Type {
	case "wecom":
		f := fakewecom.New()
		closeFake(f)
		f.Key = parse(settings.SecretURL).Query().Get("key")
		sent.APIURL = f.URL
		delivered = func() bool { return len(f.Accepted()) > 0 }
	case "dingtalk":
		f := fakedingtalk.New()
		closeFake(f)
		f.Token = parse(settings.SecretURL).Query().Get("access_token")
		f.Secret = secret(settings.SecretSecret)
		if ch.Keyword != "" {
			f.Keywords = []string{ch.Keyword}
		}
		f.FetchImages = true
		sent.APIURL = f.URL
		delivered = func() bool { return len(f.Accepted()) > 0 }
	case "feishu":
		f := fakefeishu.New()
		closeFake(f)
		f.Token = path.Base(parse(settings.SecretURL).Path)
		f.Secret = secret(settings.SecretSecret)
		f.AppID, f.AppSecret = ch.FeishuAppID, secret(settings.SecretAppSecret)
		if ch.Keyword != "" {
			f.Keywords = []string{ch.Keyword}
		}
		sent.APIURL = f.URL
		delivered = func() bool { return len(f.Accepted()) > 0 }
	case "teams":
		f := faketeams.New()
		closeFake(f)
		f.Sig = parse(settings.SecretURL).Query().Get("sig")
		sent.APIURL = f.URL
		delivered = func() bool {
			runs := f.Runs()
			return len(runs) > 0 && runs[len(runs)-1].Status == "Succeeded"
		}
	case "slack":
		f := fakeslack.New()
		closeFake(f)
		if tok := secret(settings.SecretToken); tok != "" {
			f.Token, f.Channels = tok, []string{ch.SlackChannel}
			sent.APIURL = f.URL + "/api"
		} else {
			f.HookPath = parse(settings.SecretURL).Path
			sent.APIURL = f.URL
		}
		delivered = func() bool { return len(f.Posts()) > 0 }
	case "telegram":
		f := faketelegram.New()
		closeFake(f)
		f.Token, f.ChatID = secret(settings.SecretToken), ch.ChatID
		sent.APIURL = f.URL
		delivered = func() bool { return len(f.Accepted()) > 0 }
	case "discord":
		f := fakediscord.New()
		closeFake(f)
		parts := strings.Split(strings.Trim(parse(settings.SecretURL).Path, "/"), "/")
		f.ID, f.Token = parts[len(parts)-2], parts[len(parts)-1]
		sent.APIURL = f.URL
		delivered = func() bool { return len(f.Accepted()) > 0 }
	case "webhook":
		f := fakewebhook.New()
		closeFake(f)
		f.Token, f.Secret = secret(settings.SecretToken), secret(settings.SecretSecret)
		sent.APIURL = f.URL
		delivered = func() bool { return len(f.Accepted()) > 0 }
	case "inbox":
		sent.Dir = t.TempDir()
		delivered = func() bool {
			entries, _ := os.ReadDir(sent.Dir)
			return len(entries) > 0
		}
	default:
		t.Errorf("%s: channel %s: no fake for type %s", where, ch.Name, ch.Type)
		return
	}
	deps := registry.Deps{}
	if hasStore {
		store, _ := fixture.ImageStore(t)
		deps.Images = store
	}
	n, err := registry.New(sent, s, deps)
	if err != nil {
		t.Errorf("%s: channel %s: %v", where, ch.Name, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := channels.SendTest(ctx, n, nil)
	switch {
	case err != nil:
		t.Errorf("%s: channel %s (%s): the platform refused the test message: %v", where, ch.Name, ch.Type, err)
	case !delivered():
		t.Errorf("%s: channel %s (%s): the platform did not receive the test message", where, ch.Name, ch.Type)
	case res != nil && res.Note != "" && !ch.DisableChart:
		t.Errorf("%s: channel %s (%s): delivered without its chart: %s", where, ch.Name, ch.Type, res.Note)
	}
}

// checkChannelFields checks the non-secret fields the registry accepts but
// a platform would refuse.
func checkChannelFields(t *testing.T, where string, ch settings.Channel, s *settings.Settings) {
	t.Helper()
	switch ch.Type {
	case "feishu":
		u := s.ChannelSecret(ch.Name, settings.SecretURL)
		if ch.Lark != strings.Contains(u, "larksuite.com") {
			t.Errorf("%s: channel %s: lark: %v does not match its webhook host", where, ch.Name, ch.Lark)
		}
		if (ch.FeishuAppID != "") != (s.ChannelSecret(ch.Name, settings.SecretAppSecret) != "") {
			t.Errorf("%s: channel %s: feishuAppId and appSecret go together", where, ch.Name)
		}
		if ch.FeishuAppID != "" && !strings.HasPrefix(ch.FeishuAppID, "cli_") {
			t.Errorf("%s: channel %s: Feishu app ids start with cli_", where, ch.Name)
		}
	case "slack":
		if ch.SlackChannel != "" && !regexp.MustCompile(`^[CG][A-Z0-9]{8,}$`).MatchString(ch.SlackChannel) {
			t.Errorf("%s: channel %s: slackChannel %q is not a channel ID", where, ch.Name, ch.SlackChannel)
		}
	case "telegram":
		if !regexp.MustCompile(`^(-?[0-9]+|@[A-Za-z0-9_]{5,})$`).MatchString(ch.ChatID) {
			t.Errorf("%s: channel %s: chatId %q is not a Telegram chat id or @channelname", where, ch.Name, ch.ChatID)
		}
	}
	if unused := registry.Unused(ch); len(unused) > 0 {
		t.Errorf("%s: channel %s: a %s channel does not read %v", where, ch.Name, ch.Type, unused)
	}
}

// rawSecrets re-reads the unexpanded secureJsonData of a standalone file.
func checkSecretsAreEnvRefs(t *testing.T, where string, c *standalone.Config) {
	t.Helper()
	for k, v := range c.SecureJSONData {
		if !regexp.MustCompile(`^\$\{[A-Z_][A-Z0-9_]*\}$`).MatchString(v) {
			t.Errorf("%s: secureJsonData.%s should be a single ${ENV} reference, not a literal", where, k)
		}
	}
}

func TestStandaloneExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "examples", "standalone", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	byFile := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		c, err := standalone.Parse(b, lookupEnv)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkSecretsAreEnvRefs(t, name, c)
		if c.Secrets[settings.SecretWebhookToken] == "" && !onlyInbox(c) {
			t.Errorf("%s: sends to a chat platform but leaves the HTTP API open: set secureJsonData.webhookToken", name)
		}
		if c.Delivery.DataDir == "" {
			t.Errorf("%s: delivery.dataDir is empty: the queue would land in a temporary directory", name)
		}
		if len(c.Routes) == 0 {
			t.Errorf("%s: no routes", name)
		}
		byFile[name] = checkSettings(t, name, &c.Settings, "", "")
	}
	for _, typ := range settings.ChannelTypes {
		if !slices.Contains(byFile[typ+".yaml"], typ) {
			t.Errorf("examples/standalone/%s.yaml does not build a %s channel", typ, typ)
		}
		if !slices.Contains(byFile["all-channels.yaml"], typ) {
			t.Errorf("all-channels.yaml has no %s channel", typ)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "examples", "standalone", "all-channels.yaml")); err == nil {
		if c, err := standalone.Parse(b, lookupEnv); err == nil {
			labelRoute := false
			for _, r := range c.Routes {
				labelRoute = labelRoute || len(r.Match) > 0
			}
			if !labelRoute {
				t.Error("all-channels.yaml has no label-based route (match)")
			}
			// The label-based route must really add channels for matching alerts.
			plain := c.ChannelsFor("ops", map[string]string{"team": "web"})
			db := c.ChannelsFor("ops", map[string]string{"team": "db"})
			if len(db) <= len(plain) {
				t.Errorf("all-channels.yaml: team=db alerts go to %v, others to %v: the match route adds nothing", db, plain)
			}
		}
	}
}

func onlyInbox(c *standalone.Config) bool {
	for _, ch := range c.Channels {
		if ch.Type != "inbox" {
			return false
		}
	}
	return true
}

// block is one fenced code block of a Markdown file.
type block struct {
	lang, body string
	line       int
}

var fenceRE = regexp.MustCompile("(?ms)^```([a-z]*)[ \t]*\n(.*?)^```[ \t]*$")

func codeBlocks(t *testing.T, path string) []block {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	for _, m := range fenceRE.FindAllSubmatchIndex(b, -1) {
		out = append(out, block{lang: string(b[m[2]:m[3]]), body: string(b[m[4]:m[5]]),
			line: bytes.Count(b[:m[0]], []byte("\n")) + 1})
	}
	return out
}

// provisioningFile is a Grafana provisioning/plugins/*.yaml file.
type provisioningFile struct {
	APIVersion int `yaml:"apiVersion"`
	Apps       []struct {
		Type           string            `yaml:"type"`
		OrgID          int64             `yaml:"org_id"`
		OrgName        string            `yaml:"org_name"`
		Disabled       bool              `yaml:"disabled"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"apps"`
}

// grafanaEnvRE is Grafana's provisioning interpolation: $NAME or ${NAME}.
var grafanaEnvRE = regexp.MustCompile(`\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)`)

func expandGrafana(t *testing.T, where, v string) string {
	return grafanaEnvRE.ReplaceAllStringFunc(v, func(ref string) string {
		name := strings.Trim(ref, "${}")
		x, ok := fakeEnv[name]
		if !ok {
			t.Errorf("%s: environment variable %s is not in the test's fake environment", where, name)
		}
		return x
	})
}

func checkProvisioning(t *testing.T, where, body string) []string {
	t.Helper()
	var f provisioningFile
	dec := yaml.NewDecoder(strings.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Errorf("%s: %v", where, err)
		return nil
	}
	if f.APIVersion != 1 || len(f.Apps) == 0 {
		t.Errorf("%s: want apiVersion: 1 and at least one app", where)
		return nil
	}
	var types []string
	for i, app := range f.Apps {
		w := fmt.Sprintf("%s apps[%d]", where, i)
		if app.Type != "alertchart-webhook-app" {
			t.Errorf("%s: type %q, want alertchart-webhook-app", w, app.Type)
			continue
		}
		jd, err := json.Marshal(app.JSONData)
		if err != nil {
			t.Errorf("%s: jsonData: %v", w, err)
			continue
		}
		secrets := map[string]string{}
		for k, v := range app.SecureJSONData {
			secrets[k] = expandGrafana(t, w+" secureJsonData."+k, v)
		}
		s, err := settings.Parse(jd, secrets)
		if err != nil {
			t.Errorf("%s: %v", w, err)
			continue
		}
		// In Grafana the plugin reaches data sources with its managed
		// service-account token.
		types = append(types, checkSettings(t, w, s, "http://grafana.example.com:3000", "glsa_managed")...)
	}
	return types
}

// checkAlertmanager runs amtool check-config (Alertmanager's own parser) on
// a documented Alertmanager configuration, and checks each webhook posts to
// /webhook/<receiver name>, the name AlertChart routes by.
func checkAlertmanager(t *testing.T, where, body string) {
	t.Helper()
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: amtool (Debian package prometheus-alertmanager) is needed to check Alertmanager examples", where)
		}
		t.Logf("%s: amtool not installed; Alertmanager example not checked", where)
	} else {
		f := filepath.Join(t.TempDir(), "alertmanager.yml")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(amtool, "check-config", f).CombinedOutput(); err != nil {
			t.Errorf("%s: Alertmanager rejects it: %v\n%s", where, err, out)
		}
	}
	var cfg struct {
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []struct {
				URL string `yaml:"url"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal([]byte(body), &cfg); err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	hooks := 0
	for _, r := range cfg.Receivers {
		for _, w := range r.WebhookConfigs {
			hooks++
			if !strings.HasSuffix(w.URL, "/webhook/"+r.Name) {
				t.Errorf("%s: receiver %s posts to %s; use .../webhook/%s so AlertChart routes it by that name", where, r.Name, w.URL, r.Name)
			}
		}
	}
	if hooks == 0 {
		t.Errorf("%s: no webhook_configs", where)
	}
}

// docTypes checks every YAML (and webhook JSON) block of a doc and returns
// the channel types its standalone and provisioning blocks build.
func docTypes(t *testing.T, doc string) (standaloneTypes, provisioningTypes []string, payloads int) {
	path := filepath.Join(root, "docs", doc)
	blocks := codeBlocks(t, path)
	if len(blocks) == 0 {
		t.Fatalf("%s has no code blocks", doc)
	}
	for _, b := range blocks {
		where := fmt.Sprintf("docs/%s:%d", doc, b.line)
		first, _, _ := strings.Cut(b.body, "\n")
		switch {
		case b.lang == "json":
			var v map[string]any
			if err := json.Unmarshal([]byte(b.body), &v); err != nil {
				t.Errorf("%s: invalid JSON: %v", where, err)
			} else if _, ok := v["alertmanager"]; ok {
				checkWebhookPayload(t, where, b.body)
				payloads++
			}
		case b.lang != "yaml":
		case strings.HasPrefix(first, "# standalone"):
			c, err := standalone.Parse([]byte(b.body), lookupEnv)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			checkSecretsAreEnvRefs(t, where, c)
			standaloneTypes = append(standaloneTypes, checkSettings(t, where, &c.Settings, "", "")...)
		case strings.HasPrefix(first, "# provisioning"):
			provisioningTypes = append(provisioningTypes, checkProvisioning(t, where, b.body)...)
		case strings.HasPrefix(first, "# alertmanager"):
			checkAlertmanager(t, where, b.body)
		default:
			t.Errorf("%s: YAML block without a marker (# standalone, # provisioning or # alertmanager) on its first line", where)
		}
	}
	return standaloneTypes, provisioningTypes, payloads
}

// checkWebhookPayload decodes a documented generic-webhook body strictly
// into webhook.Payload, so every documented field exists.
func checkWebhookPayload(t *testing.T, where, body string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var p webhook.Payload
	if err := dec.Decode(&p); err != nil {
		t.Errorf("%s: not a webhook payload: %v", where, err)
		return
	}
	if p.Version != "1" || p.Alertmanager == nil || p.Chart == nil || len(p.Chart.Series) == 0 {
		t.Errorf("%s: the documented payload should show version 1, alertmanager data and a chart with series", where)
	}
	// Every field the code sends is shown.
	var doc map[string]any
	_ = json.Unmarshal([]byte(body), &doc)
	full, _ := json.Marshal(webhook.Payload{Chart: &webhook.Chart{Series: []webhook.SeriesStats{{}}}, ChartNote: "x",
		Links: webhook.Links{Grafana: "x", Silence: "x"}})
	var want map[string]any
	_ = json.Unmarshal(full, &want)
	for k := range want {
		if _, ok := doc[k]; !ok {
			t.Errorf("%s: documented payload lacks field %q", where, k)
		}
	}
}

func TestDocsChannels(t *testing.T) {
	st, pr, payloads := docTypes(t, "channels.md")
	if payloads == 0 {
		t.Error("docs/channels.md does not show the generic webhook's JSON payload")
	}
	for _, typ := range settings.ChannelTypes {
		if !slices.Contains(st, typ) {
			t.Errorf("docs/channels.md has no standalone example building a %s channel", typ)
		}
		if !slices.Contains(pr, typ) {
			t.Errorf("docs/channels.md has no provisioning example building a %s channel", typ)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "channels.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	// Every secret a channel reads, and every image-store provider, is named.
	var keys []string
	for typ, fields := range secretShapes {
		for f := range fields {
			keys = append(keys, typ+":"+f)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		_, f, _ := strings.Cut(k, ":")
		if !strings.Contains(doc, "channels.<name>."+f) && !strings.Contains(doc, "."+f+":") {
			t.Errorf("docs/channels.md does not show secret field %s", k)
		}
	}
	for _, p := range []string{"AWS S3", "Aliyun OSS", "Tencent COS", "MinIO", "presignExpiry", "publicUrlPrefix", "lifecycle"} {
		if !strings.Contains(doc, p) {
			t.Errorf("docs/channels.md does not mention %s", p)
		}
	}
}

func TestDocsStandalone(t *testing.T) {
	st, _, _ := docTypes(t, "standalone.md")
	if len(st) == 0 {
		t.Error("docs/standalone.md has no standalone config example")
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "standalone.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"-config", "-listen", "-check", "webhookToken", "/webhook/", "/explain", "/preview",
		"/recent", "/deliveries", "/channels/", "/health", "/metrics", "/healthz", "/inbox", "nginx", "Caddy", "systemd"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/standalone.md does not mention %s", want)
		}
	}
}

// Every secret a platform's spec names has a shape here, and nothing else.
func TestSecretShapesCoverTheSpecs(t *testing.T) {
	for _, spec := range registry.Specs {
		var fields []string
		for _, sec := range spec.Secrets {
			fields = append(fields, sec.Field)
		}
		var shapes []string
		for f := range secretShapes[spec.Type] {
			shapes = append(shapes, f)
		}
		slices.Sort(fields)
		slices.Sort(shapes)
		if !slices.Equal(fields, shapes) {
			t.Errorf("%s: spec secrets %v, shapes %v", spec.Type, fields, shapes)
		}
	}
}
