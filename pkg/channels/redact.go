package channels

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces a secret in text.
const Redacted = "[redacted]"

// A Redactor removes a channel's secret values from text: the configured
// values themselves (webhook URLs, signing secrets, bot and app tokens)
// and the secret parts they carry — every query value (key=, access_token=,
// sig=) and long path segment of a URL (Telegram's bot token, Slack's hooks
// path, Discord's webhook token) in raw and URL-encoded form — plus, as a
// second line, anything shaped like a credential (Bearer tokens, key=…,
// Slack xox…- tokens). Platforms and proxies echo requests back in error
// pages; whatever a notifier returns passes through here first.
type Redactor struct {
	replacer *strings.Replacer
}

// minSecretLen: shorter pieces (sv=1.0, api-version) are not secrets and
// would redact ordinary words.
const minSecretLen = 6

// NewRedactor returns a Redactor for a channel's secret values.
func NewRedactor(values ...string) *Redactor {
	seen := map[string]bool{}
	var pieces []string
	add := func(s string) {
		if len(s) >= minSecretLen && !seen[s] {
			seen[s] = true
			pieces = append(pieces, s)
		}
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		add(v)
		add(url.QueryEscape(v))
		// A Telegram bot token: the part after the colon is the secret.
		if id, tok, ok := strings.Cut(v, ":"); ok && !strings.Contains(v, "/") && id != "" {
			add(tok)
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			continue
		}
		for _, vs := range u.Query() {
			for _, q := range vs {
				add(q)
				add(url.QueryEscape(q))
			}
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			// Tokens and ids, not words like "webhooks" or "invoke".
			if len(seg) >= 16 || len(seg) >= minSecretLen && strings.ContainsAny(seg, "0123456789") {
				add(seg)
				if p, err := url.PathUnescape(seg); err == nil {
					add(p)
				}
			}
		}
	}
	// Longest first, so a value is replaced whole before its parts.
	slices.SortFunc(pieces, func(a, b string) int { return len(b) - len(a) })
	var oldnew []string
	for _, p := range pieces {
		oldnew = append(oldnew, p, Redacted)
	}
	return &Redactor{replacer: strings.NewReplacer(oldnew...)}
}

// credentialRE finds credential-shaped text no matter whose it is.
var credentialRE = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}`), "$1 " + Redacted},
	{regexp.MustCompile(`(?i)\b(key|access_token|token|sig|sign|secret|app_secret|password)=[^&\s"'<>]{6,}`), "$1=" + Redacted},
	{regexp.MustCompile(`(?i)("(?:app_secret|secret|token|tenant_access_token)"\s*:\s*")[^"]{6,}"`), `$1` + Redacted + `"`},
	{regexp.MustCompile(`\bxox[abeoprs]-[A-Za-z0-9-]{8,}`), Redacted},
	{regexp.MustCompile(`/bot[0-9]{5,}:[A-Za-z0-9_-]{20,}`), "/bot" + Redacted},
	{regexp.MustCompile(`(hooks\.slack\.com/services)/[A-Za-z0-9/]+`), "$1/" + Redacted},
	{regexp.MustCompile(`(/api/webhooks/[0-9]+)/[A-Za-z0-9_-]{20,}`), "$1/" + Redacted},
}

// String redacts s.
func (r *Redactor) String(s string) string {
	if r == nil || s == "" {
		return s
	}
	s = r.replacer.Replace(s)
	for _, c := range credentialRE {
		s = c.re.ReplaceAllString(s, c.repl)
	}
	return s
}

// Error returns err with every secret redacted from its text. A *Error
// keeps its kind, codes, wait and Sent, so the delivery stage decides as
// before; the cause is replaced by its redacted text, still answering
// errors.Is for the original (context.Canceled, …).
func (r *Redactor) Error(err error) error {
	if r == nil || err == nil {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Msg = r.String(e.Msg)
		if e.Err != nil {
			c.Err = r.cause(e.Err)
		}
		return &c
	}
	return r.cause(err)
}

func (r *Redactor) cause(err error) error {
	if text := r.String(err.Error()); text != err.Error() {
		return &redactedError{text: text, orig: err}
	}
	return err
}

// redactedError is an error whose text had secrets removed. It does not
// unwrap (that would hand out the original text), but errors.Is still
// sees the original.
type redactedError struct {
	text string
	orig error
}

func (e *redactedError) Error() string        { return e.text }
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }

// Result returns a copy of res with the platform's answer and the notes
// redacted.
func (r *Redactor) Result(res *Result) *Result {
	if r == nil || res == nil {
		return res
	}
	c := *res
	c.Body = r.String(res.Body)
	c.Note = r.String(res.Note)
	return &c
}

// Redacting wraps n so that everything its Send returns has the channel's
// secrets redacted: the one place the channels package's results and
// errors pass on their way to delivery records, logs and health checks.
func Redacting(n Notifier, r *Redactor) Notifier {
	return &redacting{Notifier: n, r: r}
}

type redacting struct {
	Notifier
	r *Redactor
}

func (w *redacting) Send(ctx context.Context, m *Message) (*Result, error) {
	res, err := w.Notifier.Send(ctx, m)
	return w.r.Result(res), w.r.Error(err)
}

// Cost forwards the wrapped notifier's cost, so CostOf sees through the
// wrapper.
func (w *redacting) Cost(m *Message) int { return CostOf(w.Notifier, m) }

// Named forwards the wrapped notifier's Fitter, so NamedBy sees through
// the wrapper. A notifier that is no Fitter is said to name every alert.
func (w *redacting) Named(m *Message) ([]string, error) {
	fps, ok, err := NamedBy(w.Notifier, m)
	if !ok && err == nil && m != nil && m.Data != nil && m.Part != PartChart {
		for _, a := range m.Data.Alerts {
			fps = append(fps, a.Fingerprint)
		}
	}
	return fps, w.r.Error(err)
}

// Lang forwards the wrapped notifier's message language (SendTest).
func (w *redacting) Lang() string {
	if l, ok := w.Notifier.(interface{ Lang() string }); ok {
		return l.Lang()
	}
	return ""
}

// Unwrap returns the wrapped notifier, for tests and for type-specific
// features (e.g. the inbox's folder).
func (w *redacting) Unwrap() Notifier { return w.Notifier }
