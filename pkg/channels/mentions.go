package channels

import (
	"regexp"
	"strings"

	"github.com/alertchart/alertchart/pkg/settings"
)

// mentionRE is what a user id or mobile may look like; anything else from a
// label value is dropped rather than sent as markup.
var mentionRE = regexp.MustCompile(`^[A-Za-z0-9_.@+\-]{1,64}$`)

// Mentions returns the user ids to mention for m: the channel's
// mentionUsers plus the ids listed (comma, semicolon or space separated) in
// the mentionLabel label of firing alerts. Resolved-only messages mention
// the configured users but not the label's, to keep the noise down.
func Mentions(ch settings.Channel, m *Message) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id != "" && mentionRE.MatchString(id) && !seen[id] {
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

// Mobiles returns the channel's mentionMobiles that look like phone numbers.
func Mobiles(ch settings.Channel) []string {
	var out []string
	for _, m := range ch.MentionMobiles {
		if m = strings.TrimSpace(m); mentionRE.MatchString(m) {
			out = append(out, m)
		}
	}
	return out
}
