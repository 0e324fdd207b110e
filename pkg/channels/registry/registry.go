// Package registry builds a channel's Notifier from the settings model, so
// the plugin, the standalone server and the config page's test button all
// construct channels the same way and report configuration mistakes with
// the same messages. Everything about a platform comes from its package's
// Spec: the constructor, the fields and secrets it needs, its limits; the
// docs table (docs/channels.md) and the config page's channel form
// (channel-specs.json) are generated from the same specs.
package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/dingtalk"
	"github.com/alertchart/alertchart/pkg/channels/discord"
	"github.com/alertchart/alertchart/pkg/channels/feishu"
	"github.com/alertchart/alertchart/pkg/channels/inbox"
	"github.com/alertchart/alertchart/pkg/channels/slack"
	"github.com/alertchart/alertchart/pkg/channels/teams"
	"github.com/alertchart/alertchart/pkg/channels/telegram"
	"github.com/alertchart/alertchart/pkg/channels/webhook"
	"github.com/alertchart/alertchart/pkg/channels/wecom"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Specs are the supported platforms, in the order of settings.ChannelTypes.
var Specs = []channels.Spec{wecom.Spec, dingtalk.Spec, feishu.Spec, teams.Spec, slack.Spec, telegram.Spec, discord.Spec, webhook.Spec, inbox.Spec}

// Lookup returns the spec of a channel type.
func Lookup(typ string) (channels.Spec, bool) {
	i := slices.IndexFunc(Specs, func(s channels.Spec) bool { return s.Type == typ })
	if i < 0 {
		return channels.Spec{}, false
	}
	return Specs[i], true
}

// Deps are the shared services notifiers use.
type Deps struct {
	// HTTP sends platform requests; nil means a client with a 15s timeout.
	HTTP *http.Client
	// Images hosts charts for URL-only platforms; may be nil.
	Images imagestore.Store
	// GrafanaURL is Grafana's public URL for Explore links, used when a
	// message carries none.
	GrafanaURL string
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock messages are written with; nil means time.Now.
	Now func() time.Time
}

// DefaultTimeout bounds one platform request when Deps.HTTP is nil.
const DefaultTimeout = 15 * time.Second

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// New builds the notifier for ch. Errors name the setting to fix and never
// contain secret values; neither does anything the notifier returns (its
// results and errors pass through a Redactor of the channel's secrets).
func New(ch settings.Channel, s *settings.Settings, deps Deps) (channels.Notifier, error) {
	if s == nil {
		s = &settings.Settings{}
		s.ApplyDefaults()
	}
	spec, ok := Lookup(ch.Type)
	if !ok {
		return nil, fmt.Errorf("channel %q: unknown type %q", ch.Name, ch.Type)
	}
	secrets := channels.Secrets{}
	for _, sec := range spec.Secrets {
		secrets[sec.Field] = s.ChannelSecret(ch.Name, sec.Field)
	}
	redactor := channels.NewRedactor(secrets.Values()...)
	if problems := Problems("", ch, s); len(problems) > 0 {
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.Path+" "+p.Problem)
		}
		return nil, fmt.Errorf("channel %q (%s): %s", ch.Name, ch.Type, strings.Join(msgs, "; "))
	}
	lang := ch.Language
	if lang == "" {
		lang = s.Chart.Language
	}
	loc, err := time.LoadLocation(s.Chart.Timezone)
	if err != nil || s.Chart.Timezone == "" {
		loc = time.UTC
	}
	client := deps.HTTP
	if client == nil {
		client = defaultClient
	}
	opts := channels.Options{Channel: ch, HTTP: client, Logger: deps.Logger, Lang: lang, Location: loc, Now: deps.Now,
		Links: channels.Links{GrafanaURL: deps.GrafanaURL, DatasourceUID: s.Prometheus.DatasourceUID, OrgID: s.Grafana.OrgID,
			AlertmanagerURL: s.Alertmanager.URL}}
	// imagestore.FromSettings returns a nil *S3 when no store is configured;
	// stored in the interface it would not compare equal to nil.
	if s3, ok := deps.Images.(*imagestore.S3); deps.Images != nil && !(ok && s3 == nil) {
		opts.Images = deps.Images
	}
	n, err := spec.New(opts, secrets)
	if err != nil {
		return nil, fmt.Errorf("channel %q (%s): %w", ch.Name, ch.Type, redactor.Error(err))
	}
	return channels.Redacting(n, redactor), nil
}

// All builds every configured channel. Channels that fail are reported in
// errs by name; the others are returned, so one broken channel does not
// silence the rest.
func All(s *settings.Settings, deps Deps) (map[string]channels.Notifier, map[string]error) {
	out := map[string]channels.Notifier{}
	errs := map[string]error{}
	for _, ch := range s.Channels {
		n, err := New(ch, s, deps)
		if err != nil {
			errs[ch.Name] = err
			continue
		}
		out[ch.Name] = n
	}
	return out, errs
}

// Problems lists what ch's spec requires that its settings lack: required
// fields (paths prefix+"."+field, or the bare field with an empty prefix)
// and required secrets (secureJsonData."channels.<name>.<field>"). An
// unknown type is a problem too.
func Problems(prefix string, ch settings.Channel, s *settings.Settings) []settings.FieldError {
	path := func(field string) string {
		if prefix == "" {
			return field
		}
		return prefix + "." + field
	}
	spec, ok := Lookup(ch.Type)
	if !ok {
		return []settings.FieldError{{Path: path("type"), Problem: fmt.Sprintf("must be one of %s, not %q", strings.Join(settings.ChannelTypes, ", "), ch.Type)}}
	}
	var out []settings.FieldError
	for _, f := range spec.Required {
		if v, ok := fieldValue(ch, f); !ok || v.IsZero() || v.Kind() == reflect.String && strings.TrimSpace(v.String()) == "" {
			out = append(out, settings.FieldError{Path: path(f), Problem: fmt.Sprintf("is required for %s channels", spec.Type)})
		}
	}
	for _, sec := range spec.Secrets {
		if sec.Required && strings.TrimSpace(s.ChannelSecret(ch.Name, sec.Field)) == "" {
			out = append(out, settings.FieldError{Path: "secureJsonData." + settings.ChannelSecretKey(ch.Name, sec.Field),
				Problem: "is not set (" + sec.Doc + ")"})
		}
	}
	return out
}

// Validate checks every channel of s against its spec, with the paths
// settings validation uses ("channels[2].chatId").
func Validate(s *settings.Settings) error {
	var errs settings.ValidationError
	for i, ch := range s.Channels {
		errs = append(errs, Problems(fmt.Sprintf("channels[%d]", i), ch, s)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Unused lists the type-specific fields set on ch that its platform does
// not read (e.g. mentionMobiles on a Slack channel): harmless, but a sign
// of a copy-paste mistake.
func Unused(ch settings.Channel) []string {
	spec, ok := Lookup(ch.Type)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range typeSpecificFields() {
		if v, ok := fieldValue(ch, f); ok && !v.IsZero() && !slices.Contains(spec.Fields, f) {
			out = append(out, f)
		}
	}
	return out
}

// commonFields are the settings.Channel fields every channel has.
var commonFields = []string{"name", "type", "language", "template", "disableChart", "rateLimitPerMinute", "apiUrl"}

// typeSpecificFields are the other settings.Channel fields, by JSON name.
func typeSpecificFields() []string {
	var out []string
	t := reflect.TypeFor[settings.Channel]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && !slices.Contains(commonFields, name) {
			out = append(out, name)
		}
	}
	return out
}

// fieldValue returns the settings.Channel field with the given JSON name.
func fieldValue(ch settings.Channel, jsonName string) (reflect.Value, bool) {
	v := reflect.ValueOf(ch)
	t := v.Type()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == jsonName {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// errUnknownField is returned by checkSpec for a spec naming a field
// settings.Channel does not have.
var errUnknownField = errors.New("not a settings.Channel field")

// checkSpec verifies a spec against the settings model (used by tests and
// the generators): every field and secret it names exists.
func checkSpec(spec channels.Spec) error {
	for _, f := range append(slices.Clone(spec.Fields), spec.Required...) {
		if _, ok := fieldValue(settings.Channel{}, f); !ok || slices.Contains(commonFields, f) {
			return fmt.Errorf("%s: field %q: %w", spec.Type, f, errUnknownField)
		}
	}
	for _, f := range spec.Required {
		if !slices.Contains(spec.Fields, f) {
			return fmt.Errorf("%s: required field %q is not in Fields", spec.Type, f)
		}
	}
	known := []string{settings.SecretURL, settings.SecretSecret, settings.SecretToken, settings.SecretAppSecret}
	for _, sec := range spec.Secrets {
		if !slices.Contains(known, sec.Field) {
			return fmt.Errorf("%s: secret %q is not one of %v", spec.Type, sec.Field, known)
		}
	}
	if spec.New == nil {
		return fmt.Errorf("%s: no constructor", spec.Type)
	}
	return nil
}
