package slack

import (
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:   "slack",
	Title:  "Slack",
	Fields: []string{"slackChannel", "mentionUsers", "mentionAll", "mentionLabel"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Doc: "an incoming webhook URL (hooks.slack.com/services/…)"},
		{Field: settings.SecretToken, Doc: "a bot token (xoxb-…) with chat:write and files:write"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, Burst: channels.Rate{Messages: 1, Per: time.Second}, CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "bot: file upload into the channel; webhook: image block by URL",
	ImageStore: "webhook only",
	Note:       "either `token` + `slackChannel` or `url`",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL], s[settings.SecretToken]))
	},
}
