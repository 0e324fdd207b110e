package dingtalk

import (
	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:   "dingtalk",
	Title:  "DingTalk (钉钉) custom robot",
	Fields: []string{"keyword", "mentionUsers", "mentionMobiles", "mentionAll", "mentionLabel"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Required: true, Doc: "the robot's webhook URL; its access_token= is the credential"},
		{Field: settings.SecretSecret, Doc: "the 加签 signing secret (SEC…)"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "`![](url)` inside the markdown message",
	ImageStore: "**yes**",
	Note:       "`keyword` for a robot secured by 自定义关键词",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL], s[settings.SecretSecret]))
	},
}
