package wecom

import (
	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:   "wecom",
	Title:  "WeCom (企业微信) group robot",
	Fields: []string{"mentionUsers", "mentionMobiles", "mentionAll", "mentionLabel"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Required: true, Doc: "the robot's webhook URL; its key= is the credential"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, MessagesPerSend: 2},
	Chart:      "PNG bytes (image message: base64 + md5, ≤ 2 MB), after the text",
	ImageStore: "no",
	Note:       "mobiles and @all go in a short extra text message",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL]))
	},
}
