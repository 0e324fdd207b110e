package channels

// Limits describes a channel's platform constraints.
type Limits struct {
	// PerMinute is the robot's message limit (0 = no known limit).
	PerMinute int
	// CombinesTextAndImage is true when one message can carry both text and
	// chart (so PartBoth costs one message).
	CombinesTextAndImage bool
	// MessagesPerSend is how many platform messages one Send of PartBoth
	// costs (e.g. WeCom: markdown + image = 2).
	MessagesPerSend int
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
