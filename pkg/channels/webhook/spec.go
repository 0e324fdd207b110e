package webhook

import (
	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:   "webhook",
	Title:  "Generic webhook",
	Fields: []string{"imageBase64"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Required: true, Doc: "the receiver's URL"},
		{Field: settings.SecretToken, Doc: "sent as Authorization: Bearer"},
		{Field: settings.SecretSecret, Doc: "signs the body (X-AlertChart-Signature)"},
	},
	Limits:     channels.Limits{CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "URL from the image store, or base64 with `imageBase64`",
	ImageStore: "for URLs",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL], s[settings.SecretToken], s[settings.SecretSecret]))
	},
}
