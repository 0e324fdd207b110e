package inbox

import (
	"github.com/alertchart/alertchart/pkg/channels"
)

// Spec describes the platform to the registry, the settings checks, the
// docs table and the config page.
var Spec = channels.Spec{
	Type:       "inbox",
	Title:      "Local inbox (folder of Markdown files)",
	Fields:     []string{"dir"},
	Required:   []string{"dir"},
	Limits:     channels.Limits{CombinesTextAndImage: true, MessagesPerSend: 1},
	Chart:      "PNG file next to the Markdown file",
	ImageStore: "no",
	New: func(o channels.Options, s channels.Secrets) (channels.Notifier, error) {
		return channels.Build(New(o))
	},
}
