package channels

// Spec describes one platform in one place: the registry builds channels
// from it, checks their settings with it, and the docs table and the
// config page's channel form (through a generated JSON file) are made from
// it, so a platform cannot be described differently in four places.
type Spec struct {
	// Type is the channel type in settings, e.g. "wecom".
	Type string
	// Title names the platform for people, e.g. "WeCom group robot".
	Title string
	// Fields are the type-specific settings.Channel fields (JSON names)
	// the platform reads; the fields every channel has (name, type,
	// language, template, disableChart, rateLimitPerMinute, apiUrl) are
	// not listed.
	Fields []string
	// Required are the Fields that must be set.
	Required []string
	// Secrets are the secureJsonData fields ("channels.<name>.<field>").
	Secrets []SecretSpec
	// Limits are the platform's defaults, before rateLimitPerMinute.
	Limits Limits
	// Chart says how a chart reaches the chat, and whether an image store
	// is needed, for the docs.
	Chart      string
	ImageStore string
	// Note is a short remark for the docs table, e.g. "either token +
	// slackChannel or url".
	Note string
	// New builds the notifier from the channel's options and secrets.
	New func(opts Options, secrets Secrets) (Notifier, error)
}

// SecretSpec is one secret field of a channel.
type SecretSpec struct {
	// Field is the key after "channels.<name>.", e.g. "url".
	Field string
	// Required secrets must be set for the channel to send anything.
	Required bool
	// What the value is, e.g. "the robot's webhook URL (it carries the key)".
	Doc string
}

// Secrets are a channel's secret values by field ("url", "secret", …).
type Secrets map[string]string

// Values lists the non-empty secret values, for redaction.
func (s Secrets) Values() []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Build adapts a platform constructor's result to (Notifier, error)
// without turning a failed (nil) *T into a non-nil interface.
func Build[T Notifier](n T, err error) (Notifier, error) {
	if err != nil {
		return nil, err
	}
	return n, nil
}
