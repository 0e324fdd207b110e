package telegram

import (
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:     "telegram",
	Title:    "Telegram bot",
	Fields:   []string{"chatId"},
	Required: []string{"chatId"},
	Secrets: []channels.SecretSpec{
		{Field: settings.SecretToken, Required: true, Doc: "the bot token from @BotFather, which must look like 123456:ABC…"},
	},
	Limits:     channels.Limits{PerMinute: PerMinute, Burst: channels.Rate{Messages: 1, Per: time.Second}, CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "photo upload (`sendPhoto`)",
	ImageStore: "no",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o, s[settings.SecretToken]))
	},
}
