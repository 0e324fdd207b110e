package discord

import (
	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:   "discord",
	Title:  "Discord webhook",
	Fields: []string{"mentionUsers", "mentionLabel"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Required: true, Doc: "the webhook URL; its last path segment is the token"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, Burst: channels.Rate{Messages: BurstMessages, Per: BurstWindow}, CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "file upload shown in the embed",
	ImageStore: "no",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL]))
	},
}
