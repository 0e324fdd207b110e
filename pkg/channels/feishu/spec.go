package feishu

import (
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:   "feishu",
	Title:  "Feishu (飞书) / Lark custom bot",
	Fields: []string{"keyword", "feishuAppId", "lark", "mentionUsers", "mentionAll", "mentionLabel"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretURL, Required: true, Doc: "the bot's webhook URL; its last path segment is the credential"},
		{Field: settings.SecretSecret, Doc: "the signature (签名校验) secret"},
		{Field: settings.SecretAppSecret, Doc: "the app secret of feishuAppId, for image upload"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, Burst: channels.Rate{Messages: PerSecond, Per: time.Second}, CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "uploaded by your app (`image_key`) into the card; else a link to the image store",
	ImageStore: "only without an app",
	Note:       "`feishuAppId` + `appSecret` upload charts",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretURL], s[settings.SecretSecret], s[settings.SecretAppSecret]))
	},
}
