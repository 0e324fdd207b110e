package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// A runtime is one organisation's registration with an engine: the
// settings, notifiers and charter of one app instance. Every decision about
// the organisation's deliveries — which channels exist, how they are sent,
// how long to retry — is made with its current runtime, whichever instance
// accepted the notification.
type orgRuntime struct {
	*engine
	org        int64
	s          *settings.Settings
	notifiers  map[string]channels.Notifier
	broken     map[string]error
	charter    Charter
	grafanaURL string
	listURL    string            // Config.DeliveriesURL
	robots     map[string]string // channel → robot key
}

func newRuntime(e *engine, cfg Config) *orgRuntime {
	rt := &orgRuntime{engine: e, org: cfg.OrgID, s: cfg.Settings, notifiers: cfg.Notifiers, broken: cfg.Broken,
		charter: cfg.Charter, grafanaURL: cfg.GrafanaURL, listURL: cfg.DeliveriesURL, robots: map[string]string{}}
	if rt.notifiers == nil {
		rt.notifiers = map[string]channels.Notifier{}
	}
	for _, c := range cfg.Settings.Channels {
		rt.robots[c.Name] = robotKey(rt.org, cfg.Settings, c)
	}
	return rt
}

// robot is the rate-limit key of a channel's robot.
func (s *orgRuntime) robot(channel string) string {
	if k, ok := s.robots[channel]; ok {
		return k
	}
	return fallbackRobot(s.org, channel)
}

// robotKey names the robot a channel posts to: a hash of its platform and
// destination (the robot URL, which carries its key, the bot token and chat,
// the API base, the inbox folder) — never the secret itself. Channels with
// the same destination, in one organisation or several, share one rate
// limit, which is what the platform enforces. A channel without any
// destination is its own robot.
func robotKey(org int64, s *settings.Settings, c settings.Channel) string {
	url := s.ChannelSecret(c.Name, settings.SecretURL)
	token := s.ChannelSecret(c.Name, settings.SecretToken)
	if url == "" && token == "" && c.Dir == "" {
		return fallbackRobot(org, c.Name)
	}
	h := sha256.Sum256([]byte(strings.Join([]string{c.Type, url, token, c.ChatID, c.SlackChannel, c.APIURL, c.Dir}, "\x00")))
	return "robot:" + hex.EncodeToString(h[:16])
}

func fallbackRobot(org int64, channel string) string {
	return "org:" + strconv.FormatInt(org, 10) + "/" + channel
}
