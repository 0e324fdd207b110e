package teams

import (
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:  "teams",
	Title: "Microsoft Teams (Workflows webhook)",
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Required: true, Doc: "the Workflows trigger URL; its sig= is the credential"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, Burst: channels.Rate{Messages: PerSecond, Per: time.Second}, CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "Adaptive Card `Image` by URL; a tiny chart as a data URI",
	ImageStore: "**yes** (practically)",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL]))
	},
}
