package channels_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/test/fakes/fixture"
)

func formatter(t testing.TB, mk channels.Markup, lang, custom string) *channels.Formatter {
	t.Helper()
	f, err := channels.NewFormatter(mk, lang, custom, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	f.Now = func() time.Time { return fixture.Now }
	return f
}

var allMarkups = []channels.Markup{channels.CommonMark, channels.WeComMarkdown, channels.DingTalkMarkdown, channels.LarkMarkdown,
	channels.SlackMrkdwn, channels.TelegramHTML, channels.DiscordMarkdown, channels.TeamsText, channels.PlainText}

func TestDefaultTemplatesPutStatusAndSeverityFirst(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string][]string{
		"zh": {"🔥 **[告警中 · critical] HighCPUUsage**", "实例：web-01:9100", "摘要：web-01:9100 CPU 使用率超过 90%", "当前值：97%", "开始：2026-11-25 09:55:00 UTC（已持续 5分钟）", "当前 97%，最大 97%，最小 50%", "在 Grafana 中查看", "静默此告警"},
		"en": {"🔥 **[FIRING · critical] HighCPUUsage**", "Instance: web-01:9100", "Value: 97%", "Started: 2026-11-25 09:55:00 UTC (for 5m)", "last 97%, max 97%, min 50%", "Open in Grafana", "#/silences/new?filter="},
	} {
		txt, err := formatter(t, channels.CommonMark, lang, "").Render(fixture.Message(fixture.Data(1, lang == "zh", false), fixture.Chart()), channels.Limit{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(txt.Body, want[0]) {
			t.Errorf("%s: first line %q", lang, strings.SplitN(txt.Body, "\n", 2)[0])
		}
		for _, w := range want[1:] {
			if !strings.Contains(txt.Body, w) {
				t.Errorf("%s: missing %q in\n%s", lang, w, txt.Body)
			}
		}
	}
}

func TestResolvedDigestAndChartNote(t *testing.T) {
	t.Parallel()
	d := fixture.Data(5, true, false)
	m := fixture.Message(d, nil)
	m.Digest = true
	m.ChartNote = "chart unavailable: Prometheus timed out"
	txt, err := formatter(t, channels.CommonMark, "zh", "").Render(m, channels.Limit{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"告警风暴摘要：合并 5 条告警（告警中 4，已恢复 1）", "- ✅ web-05:9100：", "⚠️ chart unavailable: Prometheus timed out", "[告警中 4 · 已恢复 1 · critical]"} {
		if !strings.Contains(txt.Body, w) {
			t.Errorf("missing %q in\n%s", w, txt.Body)
		}
	}
	// A resolved single alert says how long it lasted.
	r := fixture.Data(5, false, false)
	r.Alerts = r.Alerts[4:]
	r.Status = "resolved"
	txt, _ = formatter(t, channels.CommonMark, "en", "").Render(fixture.Message(r, nil), channels.Limit{})
	if !strings.HasPrefix(txt.Body, "✅ **[RESOLVED] HighCPUUsage**") || !strings.Contains(txt.Body, "lasted 8m, resolved 09:59:00") {
		t.Errorf("resolved:\n%s", txt.Body)
	}
}

func TestLabelMarkupIsEscapedInEveryMarkup(t *testing.T) {
	t.Parallel()
	// What each platform would read as markup. WeCom has bold only as **
	// (a single * stays as typed); Slack has no escape for * _ ~ ` (they
	// stay as typed); Teams text becomes TextRuns, which are never parsed as
	// markdown, so only its own tags matter.
	forbidden := map[string][]string{
		"commonmark": {"*bold*", "[link](", "<b>", "<@U123>"},
		"wecom":      {"**bold", "[link](", "<b>", "<@U123>", "<at", "`code`"},
		"dingtalk":   {"*bold*", "[link](", "<b>", "<@U123>", "`code`"},
		"lark_md":    {"*bold*", "[link](", "<b>", "<at id=all>", "`code`"},
		"slack":      {"<b>", "<@U123>", "<at"},
		"telegram":   {"<b>x</b>", "<@U123>", "<at"},
		"discord":    {"*bold*", "[link](", " @everyone", "`code`", "<@U123>"},
		"teams":      {"<b>x</b>", "<@U123>", "<at"},
	}
	for _, mk := range allMarkups {
		txt, err := formatter(t, mk, "en", "").Render(fixture.Message(fixture.Data(1, false, true), nil), channels.Limit{})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range forbidden[mk.Name] {
			if strings.Contains(txt.Body, bad) {
				t.Errorf("%s: %q survived escaping:\n%s", mk.Name, bad, txt.Body)
			}
		}
	}
}

func TestFiftyAlertGroupsFitEveryLimit(t *testing.T) {
	t.Parallel()
	limits := []struct {
		mk  channels.Markup
		lim channels.Limit
	}{
		{channels.WeComMarkdown, channels.Limit{Max: 4096, Unit: channels.Bytes}},
		{channels.DingTalkMarkdown, channels.Limit{Max: 12000, Unit: channels.Bytes}},
		{channels.LarkMarkdown, channels.Limit{Max: 16000, Unit: channels.Bytes}},
		{channels.SlackMrkdwn, channels.Limit{Max: 2900, Unit: channels.Runes}},
		{channels.TelegramHTML, channels.Limit{Max: 1024, Unit: channels.UTF16Text}},
		{channels.TelegramHTML, channels.Limit{Max: 4096, Unit: channels.UTF16Text}},
		{channels.DiscordMarkdown, channels.Limit{Max: 4096, Unit: channels.Runes}},
		{channels.TeamsText, channels.Limit{Max: 12000, Unit: channels.Bytes}},
	}
	for _, lang := range []string{"zh", "en"} {
		for _, c := range limits {
			m := fixture.Message(fixture.Data(50, lang == "zh", true), fixture.Chart())
			txt, err := formatter(t, c.mk, lang, "").Render(m, c.lim)
			if err != nil {
				t.Fatal(err)
			}
			if !c.lim.Fits(txt.Body) || !utf8.ValidString(txt.Body) {
				t.Errorf("%s/%s: %d units over %d", c.mk.Name, lang, c.lim.Len(txt.Body), c.lim.Max)
			}
			if txt.Shown >= 50 || txt.Shown < 1 || txt.Total != 50 {
				t.Errorf("%s/%s: shown %d of %d", c.mk.Name, lang, txt.Shown, txt.Total)
			}
			more := map[string]string{"zh": "… 另有 %d 条告警", "en": "… and %d more alerts"}[lang]
			if !strings.Contains(txt.Body, strings.Replace(more, "%d", strconv.Itoa(50-txt.Shown), 1)) {
				t.Errorf("%s/%s: no %q in\n%s", c.mk.Name, lang, more, txt.Body)
			}
			if strings.Count(txt.Body, "9100 ") < txt.Shown { // each alert's summary names its instance
				t.Errorf("%s/%s: fewer alerts than Shown", c.mk.Name, lang)
			}
		}
	}
}

func TestHugeSingleAlertIsTruncatedOnRuneBoundary(t *testing.T) {
	t.Parallel()
	d := fixture.Data(1, true, false)
	d.Alerts[0].Annotations["description"] = strings.Repeat("磁盘空间不足", 2000)
	// The description is shortened; the header, the other fields and the
	// links stay.
	for _, mk := range []channels.Markup{channels.WeComMarkdown, channels.TelegramHTML} {
		lim := channels.Limit{Max: 4096, Unit: channels.Bytes}
		txt, err := formatter(t, mk, "zh", "").Render(fixture.Message(d, nil), lim)
		if err != nil {
			t.Fatal(err)
		}
		if !txt.Truncated || !lim.Fits(txt.Body) || !utf8.ValidString(txt.Body) || !strings.Contains(txt.Body, "…\n开始：") ||
			!strings.Contains(txt.Body, "静默此告警") || !strings.Contains(txt.Body, "[告警中 · critical] HighCPUUsage") || !strings.Contains(txt.Body, "开始：") {
			t.Errorf("%s: truncated=%v len=%d\n%s", mk.Name, txt.Truncated, len(txt.Body), txt.Body)
		}
		if lim.Len(txt.Body) < 3800 {
			t.Errorf("%s: %d bytes of 4096 used", mk.Name, lim.Len(txt.Body))
		}
	}
}

func TestTruncateHTMLKeepsTagsBalanced(t *testing.T) {
	t.Parallel()
	s := "<b>告警</b> <a href=\"http://x?a=1&amp;b=2\">链接 &lt;很长&gt;" + strings.Repeat("字", 100) + "</a>"
	for max := 20; max < 120; max += 7 {
		for _, unit := range []channels.Unit{channels.UTF16, channels.UTF16Text} {
			out := channels.Limit{Max: max, Unit: unit}.Truncate(s, "…", true)
			if strings.Count(out, "<a ") != strings.Count(out, "</a>") || strings.Count(out, "<b>") != strings.Count(out, "</b>") {
				t.Errorf("max %d: unbalanced %q", max, out)
			}
			if strings.Contains(out, "&am…") || strings.HasSuffix(strings.TrimSuffix(out, "…"), "&") {
				t.Errorf("max %d: entity cut %q", max, out)
			}
			if (channels.Limit{Max: max, Unit: unit}).Len(out) > max {
				t.Errorf("max %d: too long %q", max, out)
			}
		}
	}
	if n := (channels.Limit{Unit: channels.UTF16Text}).Len(`<a href="http://long/url">ab</a> &lt;😀`); n != 6 {
		t.Errorf("visible length %d, want 6 (a, b, space, entity, surrogate pair)", n)
	}
	if got := channels.TruncateBytes("告警告警", 7, "…"); got != "告…" || !utf8.ValidString(got) {
		t.Errorf("bytes: %q", got)
	}
}

func TestCustomTemplate(t *testing.T) {
	t.Parallel()
	f := formatter(t, channels.TelegramHTML, "en", `{{b .Headline}} on {{(index .Alerts 0).Instance}} {{esc "<x>"}} {{link .GrafanaURL "go"}}`)
	txt, err := f.Render(fixture.Message(fixture.Data(1, false, true), nil), channels.Limit{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(txt.Body, "<b>[FIRING · critical] HighCPUUsage</b> on *bold*") || !strings.Contains(txt.Body, "&lt;x&gt;") || !strings.Contains(txt.Body, `<a href="http://grafana.example:3000/explore?panes=`) || !strings.HasSuffix(txt.Body, `">go</a>`) {
		t.Errorf("%s", txt.Body)
	}
	if _, err := channels.NewFormatter(channels.CommonMark, "en", "{{.Broken", nil); err == nil {
		t.Error("bad template accepted")
	}
	// A template that fails at run time falls back to the default, with a note.
	f = formatter(t, channels.CommonMark, "en", `{{(index .Alerts 5).Name}}`)
	txt, err = f.Render(fixture.Message(fixture.Data(1, false, false), nil), channels.Limit{})
	if err != nil || !strings.Contains(txt.Body, "HighCPUUsage") || !strings.Contains(txt.Note, "default used") {
		t.Errorf("%v %q %s", err, txt.Note, txt.Body)
	}
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{0.9712, "percentunit", "97.1%"}, {93.456, "percent", "93.5%"}, {1536, "bytes", "1.50 KiB"}, {2.5e9, "decbytes", "2.50 GB"},
		{0.0042, "s", "4.20 ms"}, {250, "ms", "250 ms"}, {1500, "reqps", "1.50K req/s"}, {42, "", "42"}, {7, "widgets", "7 widgets"},
		{math.NaN(), "percent", "NaN"}, {-3.25, "celsius", "-3.25°C"},
	} {
		if got := channels.FormatValue(c.v, c.unit); got != c.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestSilenceURLAndRetryAfter(t *testing.T) {
	t.Parallel()
	u := channels.SilenceURL("http://am:9093/", map[string]string{"alertname": "A\"B", "instance": "x", "other": "y"})
	if u != `http://am:9093/#/silences/new?filter=%7Balertname%3D%22A%5C%22B%22%2Cinstance%3D%22x%22%7D` {
		t.Errorf("%s", u)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"5": 5 * time.Second, "1.5": 1500 * time.Millisecond, "": 0, "junk": 0,
		now.Add(time.Minute).Format(http.TimeFormat): time.Minute} {
		if got := channels.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v", in, got)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	wrapped := errors.Join(errors.New("ctx"), &channels.Error{Kind: channels.TooBig, RetryAfter: time.Second})
	if channels.KindOf(wrapped) != channels.TooBig || channels.RetryAfterOf(wrapped) != time.Second {
		t.Fatal("wrapped error not classified")
	}
	if channels.KindOf(errors.New("plain")) != channels.Retryable {
		t.Fatal("unclassified errors must be retryable")
	}
	for status, kind := range map[int]channels.ErrorKind{429: channels.Retryable, 500: channels.Retryable, 503: channels.Retryable,
		401: channels.BadCredentials, 403: channels.BadCredentials, 413: channels.TooBig, 400: channels.Permanent, 404: channels.Permanent} {
		if e := channels.ClassifyStatus(&channels.Response{StatusCode: status, Header: http.Header{}}, ""); e == nil || e.Kind != kind {
			t.Errorf("%d: %v", status, e)
		}
	}
}

type recorder struct {
	channels.Base
	got *channels.Message
}

func (r *recorder) Limits() channels.Limits { return channels.Limits{} }
func (r *recorder) Send(_ context.Context, m *channels.Message) (*channels.Result, error) {
	r.got = m
	return &channels.Result{StatusCode: 200}, nil
}

func TestSampleMessageAndSendTest(t *testing.T) {
	t.Parallel()
	f := formatter(t, channels.CommonMark, "en", "")
	r := &recorder{Base: channels.Base{Fmt: f}}
	if _, err := channels.SendTest(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	m := r.got
	if m.Part != channels.PartBoth || m.Chart == nil || len(m.Chart.Image) < 100 || !strings.HasPrefix(string(m.Chart.Image), "\x89PNG") {
		t.Fatalf("sample %+v", m)
	}
	if !strings.Contains(m.Data.Alerts[0].Annotations["summary"], "CPU usage") {
		t.Fatal("sample not in the notifier's language")
	}
	txt, err := f.Render(m, channels.Limit{})
	if err != nil || !strings.Contains(txt.Body, "web-01:9100: last") {
		t.Fatalf("%v\n%s", err, txt.Body)
	}
}

func BenchmarkRenderOneAlert(b *testing.B) {
	f := formatter(b, channels.WeComMarkdown, "zh", "")
	m := fixture.Message(fixture.Data(1, true, false), fixture.Chart())
	lim := channels.Limit{Max: 4096, Unit: channels.Bytes}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Render(m, lim); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderFiftyAlertsFitted(b *testing.B) {
	f := formatter(b, channels.WeComMarkdown, "zh", "")
	m := fixture.Message(fixture.Data(50, true, true), fixture.Chart())
	lim := channels.Limit{Max: 4096, Unit: channels.Bytes}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Render(m, lim); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExploreLink(t *testing.T) {
	t.Parallel()
	// With a chart: its query and window.
	m := fixture.Message(fixture.Data(1, false, false), fixture.Chart())
	f := formatter(t, channels.TelegramHTML, "en", "")
	f.Links = channels.Links{DatasourceUID: "prom-uid", OrgID: 2}
	txt, _ := f.Render(m, channels.Limit{})
	from, to := fixture.Now.Add(-10*time.Minute).UnixMilli(), fixture.Now.UnixMilli()
	want := channels.ExploreURL("http://grafana.example:3000", "prom-uid", 2, fixture.Chart().Query,
		time.UnixMilli(from), time.UnixMilli(to))
	if !strings.Contains(txt.Body, `<a href="`+strings.ReplaceAll(want, "&", "&amp;")+`">`) {
		t.Fatalf("no explore link %s in\n%s", want, txt.Body)
	}
	u, _ := url.Parse(want)
	var panes map[string]struct {
		Datasource string
		Queries    []struct{ Expr string }
		Range      struct{ From, To string }
	}
	if err := json.Unmarshal([]byte(u.Query().Get("panes")), &panes); err != nil || panes["a"].Queries[0].Expr != fixture.Chart().Query ||
		panes["a"].Range.From != strconv.FormatInt(from, 10) || u.Query().Get("orgId") != "2" || panes["a"].Datasource != "prom-uid" {
		t.Fatalf("%v %+v", err, panes)
	}
	// Text before the chart: the rule's expression from generatorURL.
	m = fixture.Message(fixture.Data(1, false, false), nil)
	m.GrafanaURL = ""
	f.Links.GrafanaURL = "https://grafana.example/"
	txt, _ = f.Render(m, channels.Limit{})
	if !strings.Contains(txt.Body, "https://grafana.example/explore?") || !strings.Contains(txt.Body, url.QueryEscape(`"expr":"node_cpu_usage > 0.9"`)) {
		t.Fatalf("%s", txt.Body)
	}
	// A full link is kept as given; no Grafana at all means no link.
	m.GrafanaURL = "https://grafana.example/d/abc?viewPanel=2"
	if txt, _ = f.Render(m, channels.Limit{}); !strings.Contains(txt.Body, `href="https://grafana.example/d/abc?viewPanel=2"`) {
		t.Fatalf("%s", txt.Body)
	}
	m.GrafanaURL, f.Links.GrafanaURL = "", ""
	if txt, _ = f.Render(m, channels.Limit{}); strings.Contains(txt.Body, "Grafana") {
		t.Fatalf("%s", txt.Body)
	}
	if channels.GeneratorExpr("http://p:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1") != "up == 0" || channels.GeneratorExpr("::") != "" {
		t.Fatal("GeneratorExpr")
	}
}

// FuzzTruncate: whatever the text, a cut stays within the limit, stays
// valid UTF-8 and keeps Telegram HTML balanced.
func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"", "告警 <b>&", "a&amp;b", strings.Repeat("磁盘", 50), "\n\n<<>>&&;;", "😀😀😀"} {
		f.Add(s, 17)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 {
			max = -max
		}
		max = max%300 + 1
		if !utf8.ValidString(s) {
			return
		}
		html := "<b>" + channels.TelegramHTML.Escape(s) + "</b>\n" + channels.TelegramHTML.Link("http://x/?a=1&b=2", channels.TelegramHTML.Escape(s))
		for _, unit := range []channels.Unit{channels.Bytes, channels.Runes, channels.UTF16, channels.UTF16Text} {
			lim := channels.Limit{Max: max, Unit: unit}
			out := lim.Truncate(html, "…", true)
			if !utf8.ValidString(out) || lim.Len(out) > max && lim.Len("…") <= max {
				t.Fatalf("unit %d max %d: %q", unit, max, out)
			}
			if strings.Count(out, "<b>") != strings.Count(out, "</b>") || strings.Count(out, "<a ") != strings.Count(out, "</a>") {
				t.Fatalf("unbalanced: %q", out)
			}
			plain := lim.Truncate(s, channels.TruncatedMarker, false)
			if !utf8.ValidString(plain) || (lim.Len(plain) > max && lim.Len(channels.TruncatedMarker) <= max) {
				t.Fatalf("plain unit %d max %d: %q", unit, max, plain)
			}
		}
	})
}

var (
	openEntityRE = regexp.MustCompile(`&[#a-zA-Z0-9]{0,9}$`)
	openLinkRE   = regexp.MustCompile(`(?:^|[^\\])\[(?:[^\]\n\\]|\\.)*\]\([^)\n]*$`)
)

// FuzzTruncateMarkup: cutting escaped text never leaves half an entity, a
// dangling backslash, half a tag or half a link before the marker.
func FuzzTruncateMarkup(f *testing.F) {
	for _, s := range []string{fixture.Nasty, "a < b && c > d", `C:\path\*`, "磁盘 [x](http://y) <@U1>"} {
		f.Add(s, 23)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if !utf8.ValidString(s) {
			return
		}
		max = max%200 + 40
		if max < 40 {
			max += 200
		}
		for _, mk := range []channels.Markup{channels.SlackMrkdwn, channels.DiscordMarkdown, channels.LarkMarkdown, channels.WeComMarkdown,
			channels.DingTalkMarkdown, channels.CommonMark} {
			in := mk.Bold(mk.Escape(s)) + " " + mk.Escape(s) + "\n" + mk.Link("http://x/?a=1&b=2", mk.Escape(s))
			lim := channels.Limit{Max: max, Unit: channels.Runes}
			out := lim.TruncateMarkup(in, "…", mk)
			if lim.Len(out) > max || !utf8.ValidString(out) {
				t.Fatalf("%s: %d > %d: %q", mk.Name, lim.Len(out), max, out)
			}
			if out == in {
				continue
			}
			kept := strings.TrimSuffix(out, "…")
			if !strings.HasPrefix(in, kept) {
				kept = strings.TrimSuffix(kept, "**") // a bold span closed by the cut
			}
			if !strings.HasPrefix(in, kept) {
				t.Fatalf("%s: %q is not a prefix of %q", mk.Name, kept, in)
			}
			next := in[len(kept):]
			if openEntityRE.MatchString(kept) && next != "" && strings.ContainsAny(next[:1], "#;abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") &&
				strings.HasPrefix(in[strings.LastIndex(kept, "&"):], openEntityRE.FindString(kept)) && regexp.MustCompile(`^&[#a-zA-Z0-9]{1,9};`).MatchString(in[strings.LastIndex(kept, "&"):]) {
				t.Fatalf("%s: split entity in %q", mk.Name, out)
			}
			if n := len(kept) - len(strings.TrimRight(kept, `\`)); n%2 == 1 && (mk.Name == "discord" || mk.Name == "commonmark") {
				t.Fatalf("%s: dangling backslash in %q", mk.Name, out)
			}
			if lt := strings.LastIndexByte(kept, '<'); lt > strings.LastIndexAny(kept, ">\n") && (lt == 0 || kept[lt-1] != '\\') {
				if gt := strings.IndexAny(next, ">\n"); gt >= 0 && next[gt] == '>' {
					t.Fatalf("%s: split tag in %q", mk.Name, out)
				}
			}
			if gt := strings.IndexAny(next, ")\n"); openLinkRE.MatchString(kept) && gt >= 0 && next[gt] == ')' {
				t.Fatalf("%s: split link in %q", mk.Name, out)
			}
			if mk.Name != "slack" && strings.Count(out, "**")%2 != 0 {
				t.Fatalf("%s: unbalanced bold in %q", mk.Name, out)
			}
		}
	})
}

// Only http(s) URLs become links: a payload whose externalURL is a
// javascript: URL gets no Silence link on any platform, and a pinned
// alertmanager.url wins over the payload.
func TestLinksAreHTTPOnly(t *testing.T) {
	t.Parallel()
	for _, mk := range allMarkups {
		for _, bad := range []string{"javascript:alert(1)//", "data:text/html,x", "//evil.example", "ftp://x"} {
			d := fixture.Data(1, false, false)
			d.ExternalURL = bad
			m := fixture.Message(d, nil)
			m.GrafanaURL = "javascript:alert(2)//"
			txt, err := formatter(t, mk, "en", "").Render(m, channels.Limit{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(txt.Body, "alert(") || strings.Contains(txt.Body, "evil") || strings.Contains(txt.Body, "ftp:") || strings.Contains(txt.Body, "data:") {
				t.Errorf("%s: %q became a link:\n%s", mk.Name, bad, txt.Body)
			}
		}
		d := fixture.Data(1, false, false)
		d.ExternalURL = "javascript:alert(1)//"
		f := formatter(t, mk, "en", "")
		f.Links.AlertmanagerURL = "https://am.example.com"
		txt, _ := f.Render(fixture.Message(d, nil), channels.Limit{})
		if !strings.Contains(txt.Body, "https://am.example.com/#/silences/new?filter=") || strings.Contains(txt.Body, "javascript") {
			t.Errorf("%s: pinned Alertmanager URL not used:\n%s", mk.Name, txt.Body)
		}
		if got := mk.Link("javascript:alert(1)", "x"); got != "x" {
			t.Errorf("%s: Link wrote %q", mk.Name, got)
		}
	}
	if channels.SafeURL("https://a b") || !channels.SafeURL("http://am:9093/") || channels.SilenceURL("javascript:x", map[string]string{"alertname": "A"}) != "" {
		t.Error("SafeURL/SilenceURL")
	}
}
