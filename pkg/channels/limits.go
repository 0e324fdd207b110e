package channels

import "time"

// Rate is at most Messages platform messages in any span of Per.
type Rate struct {
	Messages int
	Per      time.Duration
}

// IsZero reports whether the rate is unset (no limit known).
func (r Rate) IsZero() bool { return r.Messages <= 0 || r.Per <= 0 }

// Interval is the spacing of an even stream that keeps to the rate
// (Per / Messages): 200 ms for Feishu's 5 a second, 3 s for WeCom's 20 a
// minute. Zero for an unset rate.
func (r Rate) Interval() time.Duration {
	if r.IsZero() {
		return 0
	}
	return r.Per / time.Duration(r.Messages)
}

// Limits describes a channel's platform constraints, for the delivery
// stage's pacing. Every window is counted per destination (one robot, one
// webhook, one chat) in platform messages, the unit CostOf returns.
type Limits struct {
	// PerMinute is the destination's message limit per minute (0 = no
	// known limit); the channel's rateLimitPerMinute overrides it.
	PerMinute int
	// Burst is the platform's documented short-window limit: Feishu 5 a
	// second, Discord 5 per 2 seconds, Teams 4 a second, Slack and
	// Telegram one a second per chat. Zero where none is documented (WeCom
	// and DingTalk count per minute only). A pacer keeps to it as well as
	// to PerMinute, so a handful of alerts goes out as individual messages
	// Burst.Interval() apart instead of being refused by the platform.
	Burst Rate
	// CombinesTextAndImage is true when one message can carry both text and
	// chart (so PartBoth costs one message).
	CombinesTextAndImage bool
	// MessagesPerSend is how many platform messages one Send of PartBoth
	// costs (e.g. WeCom: markdown + image = 2).
	MessagesPerSend int
}

// Rates lists every window to keep to, shortest first: Burst when set,
// then PerMinute as a one-minute window. A send that costs more messages
// than a window admits (a Telegram text plus its photo under one a
// second) fits when the window is otherwise empty: the platforms document
// their short windows as averages that tolerate such short bursts.
func (l Limits) Rates() []Rate {
	var out []Rate
	if !l.Burst.IsZero() {
		out = append(out, l.Burst)
	}
	if l.PerMinute > 0 {
		out = append(out, Rate{Messages: l.PerMinute, Per: time.Minute})
	}
	return out
}

// Coster is implemented by notifiers whose Send does not always cost the
// same number of platform messages: a WeCom text with @mobile mentions is
// followed by a mention message, a Telegram alert too long for a photo
// caption goes as photo plus text. The delivery stage reserves that many of
// the robot's rate-limit slots before it sends, so the limit holds exactly.
type Coster interface {
	Cost(m *Message) int
}

// CostOf is how many platform messages sending m through n costs: the
// notifier's own Cost when it has one, else MessagesPerSend for a combined
// message and one for anything else.
func CostOf(n Notifier, m *Message) int {
	if c, ok := n.(Coster); ok {
		return max(1, c.Cost(m))
	}
	if m.Part == PartBoth {
		return max(1, n.Limits().MessagesPerSend)
	}
	return 1
}

// Fitter is implemented by notifiers that can say, before sending, which
// alerts a message's text will really name: a message too long for the
// platform is shrunk (Formatter.Render) and ends "… and N more alerts",
// and the alerts left out are not in it. The delivery stage sizes storm
// digests by it, so that an alert is recorded sent only when a sent
// message named it. Named uses the same limit Send uses and returns the
// fingerprints of the named alerts; a PartChart message names none.
type Fitter interface {
	Named(m *Message) (fingerprints []string, err error)
}

// NamedBy returns the fingerprints of the alerts m names when n sends it,
// and ok false when n cannot tell (not a Fitter: a caller then assumes
// every alert is named, as before).
func NamedBy(n Notifier, m *Message) (fingerprints []string, ok bool, err error) {
	f, ok := n.(Fitter)
	if !ok {
		return nil, false, nil
	}
	fps, err := f.Named(m)
	return fps, true, err
}
