package registry_test

import (
	"context"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/settings"
	fakedt "github.com/alertchart/alertchart/test/fakes/dingtalk"
	fakedc "github.com/alertchart/alertchart/test/fakes/discord"
	fakefs "github.com/alertchart/alertchart/test/fakes/feishu"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/rendered"
	fakesl "github.com/alertchart/alertchart/test/fakes/slack"
	faketm "github.com/alertchart/alertchart/test/fakes/teams"
	faketg "github.com/alertchart/alertchart/test/fakes/telegram"
	fakewh "github.com/alertchart/alertchart/test/fakes/webhook"
	fakewc "github.com/alertchart/alertchart/test/fakes/wecom"
)

// updating reports whether the tests run with -update (the flag is
// registered by the package's internal tests).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// longDescription is a 5,000-character description full of markup
// characters, so the cut falls among escapes.
var longDescription = func() string {
	line := "Disk <sda> at 97% & rising * see runbook_v2 ~ [wiki](http://wiki.example/disk) `df -h` #ops\n"
	return strings.Repeat(line, 5000/len(line)+1)[:5000]
}()

// renderCase is one message every platform gets.
type renderCase struct {
	name           string
	defaultLang    string // chart.language
	channelLang    string // the channel's language
	data           func() *amtemplate.Data
	chart          bool
	literal, typed []string
}

var renderCases = []renderCase{
	{name: "firing", defaultLang: "en", data: func() *amtemplate.Data { return fixture.Data(1, false, false) }, chart: true},
	{name: "resolved", defaultLang: "en", data: func() *amtemplate.Data {
		d := fixture.Data(5, false, false)
		d.Alerts, d.Status = d.Alerts[4:], "resolved"
		d.CommonLabels = d.Alerts[0].Labels
		return d
	}},
	{name: "hostile", defaultLang: "en", data: func() *amtemplate.Data { return fixture.Data(1, false, true) },
		literal: []string{fixture.Nasty}, typed: []string{"&amp;"}},
	{name: "long", defaultLang: "en", data: func() *amtemplate.Data {
		d := fixture.Data(1, false, false)
		d.Alerts[0].Annotations["description"] = longDescription
		return d
	}, chart: true, literal: []string{"Disk <sda> at 97% & rising * see runbook_v2 ~ [wiki](http://wiki.example/disk) `df -h` #ops"}},
	{name: "chinese", defaultLang: "zh", data: func() *amtemplate.Data { return fixture.Data(3, true, false) }, chart: true},
	{name: "en_under_zh", defaultLang: "zh", channelLang: "en", data: func() *amtemplate.Data { return fixture.Data(1, false, false) }, chart: true},
}

// platformRender sends m through one platform's channel and returns what
// the platform shows.
type platformRender struct {
	name       string
	realEscape bool
	send       func(t *testing.T, c renderCase) rendered.Message
}

// sendWith builds the channel named name from the platform fakes' settings,
// in the case's languages, sends the case's message and returns nothing;
// the caller renders from its fake.
func sendWith(t *testing.T, s *settings.Settings, ch settings.Channel, c renderCase) {
	t.Helper()
	s.Chart.Language = c.defaultLang
	ch.Language = c.channelLang
	store, _ := fixture.ImageStore(t)
	n, err := registry.New(ch, s, registry.Deps{Images: store, Now: func() time.Time { return fixture.Now }})
	if err != nil {
		t.Fatal(err)
	}
	var chart *channels.Chart
	if c.chart {
		chart = fixture.Chart()
	}
	if _, err := n.Send(context.Background(), fixture.Message(c.data(), chart)); err != nil {
		t.Fatalf("%s: %v", ch.Name, err)
	}
}

func channelNamed(t *testing.T, s *settings.Settings, name string) settings.Channel {
	ch, ok := s.Channel(name)
	if !ok {
		t.Fatalf("no channel %s", name)
	}
	return ch
}

var (
	cmEscapeRE = regexp.MustCompile(`\\([!-/:-@\[-` + "`" + `{-~])`)
	cmLinkRE   = regexp.MustCompile(`(^|[^\\])\[([^\]]*)\]\(([^)\s]+)\)`)
)

// commonMark shows an inbox file the way a CommonMark renderer does:
// links and images applied, entities decoded, backslash escapes undone.
func commonMark(s string) rendered.Message {
	var m rendered.Message
	if i := strings.Index(s, "![chart]("); i >= 0 {
		s = strings.TrimSpace(s[:i]) // the chart file next to the message
		m.Images = append(m.Images, "chart file")
	}
	s = cmLinkRE.ReplaceAllStringFunc(s, func(x string) string {
		g := cmLinkRE.FindStringSubmatch(x)
		m.Links = append(m.Links, rendered.Link{Text: g[2], URL: g[3]})
		return g[1] + g[2]
	})
	// Escaped characters are literal; entities elsewhere are decoded.
	var kept []string
	s = cmEscapeRE.ReplaceAllStringFunc(s, func(x string) string {
		kept = append(kept, x[1:])
		return "\x00"
	})
	s = strings.ReplaceAll(html.UnescapeString(s), "**", "")
	for _, k := range kept {
		s = strings.Replace(s, "\x00", k, 1)
	}
	m.Text = s
	return m
}

var platformRenders = []platformRender{
	{"wecom", false, func(t *testing.T, c renderCase) rendered.Message {
		wc := fakewc.New()
		t.Cleanup(wc.Close)
		s := &settings.Settings{Channels: []settings.Channel{{Name: "wc", Type: "wecom"}}, Secrets: map[string]string{"channels.wc.url": wc.WebhookURL()}}
		s.ApplyDefaults()
		sendWith(t, s, s.Channels[0], c)
		return fakewc.Render(wc.Accepted())
	}},
	{"dingtalk", false, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "dt"), c)
		return fakedt.Render(f.dt.Accepted()[0])
	}},
	{"feishu", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "fs"), c)
		return fakefs.Render(f.fs.Accepted()[0])
	}},
	{"teams", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "tm"), c)
		r := f.tm.Runs()[0]
		if r.Status != "Succeeded" {
			t.Fatalf("teams run failed: %s", r.Error)
		}
		return faketm.Render(r)
	}},
	{"slack", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "sl"), c)
		return fakesl.Render(f.sl.Posts()[0])
	}},
	{"slack_webhook", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		s.Channels = append(s.Channels, settings.Channel{Name: "slw", Type: "slack", APIURL: f.sl.URL})
		s.Secrets["channels.slw.url"] = "https://hooks.slack.com" + f.sl.HookPath
		sendWith(t, s, channelNamed(t, s, "slw"), c)
		return fakesl.Render(f.sl.Posts()[0])
	}},
	{"telegram", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "tg"), c)
		return faketg.Render(f.tg.Accepted())
	}},
	{"discord", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "dc"), c)
		return fakedc.Render(f.dc.Accepted()[0])
	}},
	{"webhook", true, func(t *testing.T, c renderCase) rendered.Message {
		f, s := newPlatformFakes(t)
		sendWith(t, s, channelNamed(t, s, "wh"), c)
		return fakewh.Render(f.wh.Accepted()[0])
	}},
	{"inbox", true, func(t *testing.T, c renderCase) rendered.Message {
		dir := t.TempDir()
		s := &settings.Settings{Channels: []settings.Channel{{Name: "ib", Type: "inbox", Dir: dir}}}
		s.ApplyDefaults()
		sendWith(t, s, s.Channels[0], c)
		files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		if len(files) != 1 {
			t.Fatalf("inbox files %v", files)
		}
		b, _ := os.ReadFile(files[0])
		return commonMark(string(b))
	}},
}

// Every platform's message, as its users see it, for the cases that go
// wrong in practice: golden files of the rendered text
// (testdata/rendered/<platform>/<case>.txt, rewritten with -update and
// reviewed), and checks that the text shows no escape code, no look-alike
// where the platform has a real escape, no cut entity, label values as
// typed, only http(s) links and the Silence link.
func TestMessagesAsUsersSeeThem(t *testing.T) {
	t.Parallel()
	for _, p := range platformRenders {
		t.Run(p.name, func(t *testing.T) {
			for _, c := range renderCases {
				m := p.send(t, c)
				where := p.name + "/" + c.name
				e := rendered.Expect{RealEscape: p.realEscape, Typed: c.typed,
					Silence: "http://alertmanager.example:9093/#/silences/new?filter="}
				if p.realEscape {
					e.Literal = c.literal
				}
				rendered.Check(t, where, m, e)
				checkLanguage(t, where, c, m)
				golden := filepath.Join("testdata", "rendered", p.name, c.name+".txt")
				if updating() {
					_ = os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, []byte(m.String()), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil || string(want) != m.String() {
					t.Errorf("%s differs from %s (run with -update and read the diff):\n%s", where, golden, m)
				}
			}
		})
	}
}

// checkLanguage: the message is in the channel's language, whatever the
// default.
func checkLanguage(t *testing.T, where string, c renderCase, m rendered.Message) {
	t.Helper()
	lang := c.channelLang
	if lang == "" {
		lang = c.defaultLang
	}
	zh := strings.Contains(m.Text, "告警中") || strings.Contains(m.Text, "已恢复") || strings.Contains(m.Text, "开始：")
	en := strings.Contains(m.Text, "FIRING") || strings.Contains(m.Text, "RESOLVED") || strings.Contains(m.Text, "Started:")
	if (lang == "zh") != zh || (lang == "en") != en {
		t.Errorf("%s: not in %s:\n%s", where, lang, m.Text)
	}
}
