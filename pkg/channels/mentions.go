package channels

import (
	"regexp"
	"slices"
	"strings"

	"github.com/alertchart/alertchart/pkg/settings"
)

// mentionRE is what a user id or mobile may look like; anything else from a
// label value is dropped rather than sent as markup.
var mentionRE = regexp.MustCompile(`^[A-Za-z0-9_.@+\-]{1,64}$`)

// reservedMentions are the ids that mention everyone on some platform:
// WeCom's @all, Feishu's all, Slack's channel/here/everyone, Discord's
// everyone/here, DingTalk's 所有人. They never come from mentionUsers or a
// label; only mentionAll mentions everyone.
var reservedMentions = []string{"all", "here", "channel", "everyone", "所有人"}

// Reserved reports whether id would mention everyone on some platform
// (case and a leading @ or ! ignored).
func Reserved(id string) bool {
	id = strings.ToLower(strings.TrimLeft(strings.TrimSpace(id), "@!"))
	return slices.Contains(reservedMentions, id)
}

// Mentions returns the user ids to mention for m: the channel's
// mentionUsers plus the ids listed (comma, semicolon or space separated) in
// the mentionLabel label of firing alerts. Resolved-only messages mention
// the configured users but not the label's, to keep the noise down. An id
// that would mention everyone (Reserved) is never returned: only the
// channel's mentionAll does that.
func Mentions(ch settings.Channel, m *Message) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id != "" && mentionRE.MatchString(id) && !Reserved(id) && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, u := range ch.MentionUsers {
		add(u)
	}
	if ch.MentionLabel != "" && m != nil && m.Data != nil {
		for _, a := range m.Data.Alerts {
			if a.Status == "resolved" {
				continue
			}
			for _, id := range strings.FieldsFunc(a.Labels[ch.MentionLabel], func(r rune) bool {
				return r == ',' || r == ';' || r == ' ' || r == '\t'
			}) {
				add(id)
			}
		}
	}
	return out
}

// Mobiles returns the channel's mentionMobiles that look like phone
// numbers (never WeCom's "@all").
func Mobiles(ch settings.Channel) []string {
	var out []string
	for _, m := range ch.MentionMobiles {
		if m = strings.TrimSpace(m); mentionRE.MatchString(m) && !Reserved(m) {
			out = append(out, m)
		}
	}
	return out
}
