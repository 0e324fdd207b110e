package delivery

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/settings"
	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
)

// acceptAll accepts n single-alert notifications at once and returns their ids.
func acceptAll(t *testing.T, svc *Service, n int, prefix string) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("%s%02d-", prefix, i)))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = res.ID
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// count returns how many of msgs are texts, charts and notes.
func count(msgs []sent) (texts, charts, notes int) {
	for _, m := range msgs {
		switch {
		case m.part != channels.PartChart:
			texts++
		case m.chart:
			charts++
		default:
			notes++
		}
	}
	return
}

// Issue 13.4: 8 single-alert notifications at once to a robot with free
// slots (20 a minute, WeCom-like: text and image are separate messages)
// get 8 texts and 8 charts, and the robot refuses nothing. Before, the
// chart jobs saw the lane's still unsent texts and skipped 7 of the 8
// charts ("the channel is rate limited and alert text goes first").
func TestBurstOfEightGetsEightCharts(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 20, false)
	n.delay = 50 * time.Millisecond // a robot's answer: the lane's texts go out one after another
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{delay: 20 * time.Millisecond}, nil, n)
	ids := acceptAll(t, svc, 8, "burst")
	waitFor(t, 20*time.Second, "8 texts and 8 charts", func() bool { _, c, _ := count(n.messages()); return c >= 8 })
	for _, id := range ids {
		waitFor(t, 5*time.Second, "chart recorded", func() bool { c := channelOf(t, svc, id); return c.ChartSentAt != nil })
	}
	time.Sleep(200 * time.Millisecond)
	texts, charts, notes := count(n.messages())
	if texts != 8 || charts != 8 || notes != 0 || n.rateHits != 0 {
		t.Fatalf("%d texts, %d charts, %d notes, %d refusals; want 8, 8, 0, 0", texts, charts, notes, n.rateHits)
	}
}

// With rateLimitPerMinute 100000 nothing is ever short of slots: a burst of
// 50 gets 50 charts (before, 21–35 of them were skipped as "rate limited").
func TestBurstUnderHighLimitGetsEveryChart(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	s := testSettings(t, "ops")
	s.Channels[0].RateLimitPerMinute = 100000
	n := newFake("ops", 0, false)
	svc := openTest(t, s, &fakeCharter{delay: 5 * time.Millisecond}, nil, n)
	ids := acceptAll(t, svc, 50, "high")
	waitFor(t, 30*time.Second, "50 charts", func() bool { _, c, _ := count(n.messages()); return c >= 50 })
	for _, id := range ids {
		if c := channelOf(t, svc, id); c.ChartNote != "" && strings.Contains(c.ChartNote, "skipped") {
			t.Errorf("%s: %q", id, c.ChartNote)
		}
	}
	if texts, charts, notes := count(n.messages()); texts != 50 || charts != 50 || notes != 0 {
		t.Fatalf("%d texts, %d charts, %d notes", texts, charts, notes)
	}
}

// A chart is skipped when the robot's free slots are needed by text that
// waits for them — and the record says so with the numbers — but waits
// for a slot when no text needs one.
func TestChartSkippedOnlyWhenTextNeedsTheSlots(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	n := newFake("ops", 4, false)
	n.window = 2 * time.Second
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{delay: 500 * time.Millisecond},
		func(c *Config) { c.RateWindow = 2100 * time.Millisecond }, n)
	// 5 texts for 4 slots: 4 go at once, the 5th waits for the window, and
	// the charts of the first 4 (ready later) find it waiting.
	ids := acceptAll(t, svc, 5, "short")
	waitFor(t, 20*time.Second, "5 texts and the 5th chart", func() bool {
		texts, charts, _ := count(n.messages())
		return texts == 5 && charts >= 1
	})
	time.Sleep(500 * time.Millisecond)
	texts, charts, notes := count(n.messages())
	if texts != 5 || charts != 1 || notes != 0 || n.rateHits != 0 {
		t.Fatalf("%d texts, %d charts, %d notes, %d refusals; want 5, 1, 0, 0", texts, charts, notes, n.rateHits)
	}
	skipped := 0
	for _, id := range ids {
		c := channelOf(t, svc, id)
		switch {
		case c.ChartSentAt != nil:
		case strings.HasPrefix(c.ChartNote, "chart skipped: 1 alert text was waiting for the robot's free slots (limit 4 a minute); no note sent"):
			skipped++
		default:
			t.Errorf("%s: chart note %q", id, c.ChartNote)
		}
	}
	if skipped != 4 {
		t.Errorf("%d charts skipped, want 4", skipped)
	}
}

// Issue 13.7: a chat is told why there is no chart in its own language,
// briefly, without URLs or queries; the record keeps the full reason. A
// platform that combines text and image gets the note inside the text
// when the chart failed within chart.budget (no message of its own).
func TestChartNotesInTheChannelsLanguage(t *testing.T) {
	t.Parallel()
	const detail = `chart query failed: Get "http://10.1.2.3:9090/api/v1/query_range?query=cpu_percent%7Bjob%3D%22node%22%7D": dial tcp 10.1.2.3:9090: connect: connection refused`
	s := testSettings(t, "zh", "en", "combined")
	s.Channels[1].Language = "en"
	zh, en, combined := newFake("zh", 20, false), newFake("en", 20, false), newFake("combined", 20, true)
	ch := &fakeCharter{err: nochart.New(nochart.QueryFailed, detail)}
	svc := openTest(t, s, ch, nil, zh, en, combined)
	res, err := svc.Accept(context.Background(), "ops", payload(1, "note"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[*fakeNotifier]string{zh: "图表不可用：Prometheus 查询失败", en: "chart unavailable: the Prometheus query failed"}
	for f, note := range want {
		waitFor(t, 10*time.Second, f.name+" note", func() bool { return len(f.messages()) >= 2 })
		m := f.messages()
		if m[1].part != channels.PartChart || m[1].chart || m[1].note != note {
			t.Errorf("%s: second message %s %q, want the note %q", f.name, m[1].part, m[1].note, note)
		}
	}
	waitFor(t, 10*time.Second, "combined text", func() bool { return len(combined.messages()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	if m := combined.messages(); len(m) != 1 || m[0].part != channels.PartText || m[0].note != "图表不可用：Prometheus 查询失败" {
		t.Errorf("combined platform: want one text carrying the note, got %+v", m)
	}
	for _, f := range []*fakeNotifier{zh, en, combined} {
		for _, m := range f.messages() {
			if strings.Contains(m.note, "http") || strings.Contains(m.note, "cpu_percent") || strings.Contains(m.note, "10.1.2.3") {
				t.Errorf("%s: note with a URL, host or query: %q", f.name, m.note)
			}
		}
	}
	waitFor(t, 5*time.Second, "records", func() bool {
		d, _ := svc.Delivery(context.Background(), res.ID)
		done := 0
		for _, c := range d.Channels {
			if c.ChartNote == "chart unavailable: "+detail {
				done++
			}
		}
		return done == 3
	})
}

// A quiet reason (no data source configured: health says it once) is
// recorded, not sent.
func TestQuietReasonIsNotSent(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 20, false)
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{err: nochart.New(nochart.NoDataSource, "no Prometheus data source is configured")}, nil, n)
	res, err := svc.Accept(context.Background(), "ops", payload(1, "quiet"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "record", func() bool {
		c := channelOf(t, svc, res.ID)
		return strings.Contains(c.ChartNote, "not noted in the chat")
	})
	if m := n.messages(); len(m) != 1 || m[0].part != channels.PartText {
		t.Fatalf("want only the text, got %+v", m)
	}
}

// langCharter draws in the language asked for (LanguageCharter and
// LanguageOverviewCharter), counting the calls per language.
type langCharter struct {
	fakeCharter
	mu    sync.Mutex
	langs map[string]int
}

func (c *langCharter) ChartIn(ctx context.Context, receiver, lang string, a template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	c.mu.Lock()
	c.langs[lang]++
	c.mu.Unlock()
	title := map[string]string{"zh": "HighCPU (最近10分钟)", "en": "HighCPU (last 10m)"}[lang]
	return &channels.Chart{Image: testPNG(), ContentType: "image/png", Title: title}, channels.ChartInfo{Renderer: "native"}, nil
}

func (c *langCharter) OverviewIn(ctx context.Context, receiver, lang string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	return c.ChartIn(ctx, receiver, lang, alerts[0])
}

// Issue 17.4: each channel's chart is in its language (channel language,
// else chart.language), drawn once per language and stored per language.
func TestChartPerChannelLanguage(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "zh1", "zh2", "en")
	s.Channels[2].Language = "en"
	zh1, zh2, en := newFake("zh1", 20, false), newFake("zh2", 20, false), newFake("en", 20, false)
	ch := &langCharter{langs: map[string]int{}}
	svc := openTest(t, s, ch, nil, zh1, zh2, en)
	res, err := svc.Accept(context.Background(), "ops", payload(1, "lang"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[*fakeNotifier]string{zh1: "HighCPU (最近10分钟)", zh2: "HighCPU (最近10分钟)", en: "HighCPU (last 10m)"}
	for f, title := range want {
		waitFor(t, 10*time.Second, f.name+" chart", func() bool { _, c, _ := count(f.messages()); return c == 1 })
		for _, m := range f.messages() {
			if m.chart && m.message.Chart.Title != title {
				t.Errorf("%s: chart %q, want %q", f.name, m.message.Chart.Title, title)
			}
		}
	}
	ch.mu.Lock()
	langs := fmt.Sprint(ch.langs)
	ch.mu.Unlock()
	if langs != "map[en:1 zh:1]" {
		t.Errorf("drawn %s, want once per language", langs)
	}
	for _, lang := range []string{"zh", "en"} {
		r, ok, err := svc.e.loadChart(context.Background(), res.ID, "lang0000", lang)
		if err != nil || !ok || r.err != nil || r.chart.Title != want[map[string]*fakeNotifier{"zh": zh1, "en": en}[lang]] {
			t.Errorf("stored %s chart: %v %v %+v", lang, ok, err, r)
		}
	}
}

// Issue 13.7, DingTalk with a hanging Prometheus and rateLimitPerMinute
// 100000: each text waits chart.budget and goes alone; the chart never
// comes, so each chat gets a follow-up note, and the records say the chart
// timed out (before: no note, and 4 of 5 records said "rate limited").
func TestLateChartGetsFollowUpNote(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "ding")
	s.Channels[0].RateLimitPerMinute = 100000
	s.Channels[0].Language = "en"
	s.Chart.Budget = settings.Duration(500 * time.Millisecond)
	n := newFake("ding", 0, true)
	svc := openTest(t, s, &fakeCharter{delay: time.Minute}, func(c *Config) { c.ChartTimeout = time.Second }, n)
	ids := acceptAll(t, svc, 5, "hang")
	waitFor(t, 20*time.Second, "5 texts and 5 notes", func() bool { t, _, n := count(n.messages()); return t == 5 && n == 5 })
	for _, m := range n.messages() {
		if m.part == channels.PartChart && m.note != "chart unavailable: the chart took too long" {
			t.Errorf("note %q", m.note)
		}
	}
	for _, id := range ids {
		waitFor(t, 20*time.Second, "record", func() bool {
			// Timed out drawing, or waiting for a free renderer (five
			// hanging charts may fill them): either way within ChartTimeout.
			note := channelOf(t, svc, id).ChartNote
			return strings.HasPrefix(note, "chart unavailable: chart took longer than 1s") ||
				strings.HasPrefix(note, "chart unavailable: chart queue: no renderer free within 1s")
		}, func() string { return "record says " + strconv.Quote(channelOf(t, svc, id).ChartNote) })
	}
}

// A digest's overview is asked in its channel's language when the Charter
// can draw one in a given language.
func TestOverviewInChannelLanguage(t *testing.T) {
	t.Parallel()
	lc := &langCharter{langs: map[string]int{}}
	alerts := payload(2, "ov").Alerts
	if l := overviewLang(lc, "en"); l != "en" {
		t.Fatalf("overview language %q", l)
	}
	if l := overviewLang(&fakeCharter{}, "en"); l != "" {
		t.Fatalf("overview language of a charter without languages %q", l)
	}
	chart, _, err := overviewIn(context.Background(), lc, "ops", "en", alerts)
	if err != nil || chart.Title != "HighCPU (last 10m)" {
		t.Fatalf("overview %v %v", chart, err)
	}
	chart, _, err = overviewIn(context.Background(), &fakeCharter{}, "ops", "", alerts)
	if err != nil || chart.Title != "HighCPU — 2 alerts" {
		t.Fatalf("overview without languages %v %v", chart, err)
	}
}

// The burst of 8 against the WeCom contract fake (20 messages a minute per
// robot, refused messages counted, 45009 beyond) through the real WeCom
// notifier, counted at the far end: 8 texts naming each alert's instance,
// 8 images, nothing refused.
func TestBurstOfEightToWeComFake(t *testing.T) {
	t.Parallel()
	robot := fakewecom.New()
	t.Cleanup(robot.Close)
	s, err := settings.Parse([]byte(fmt.Sprintf(`{"chart":{"language":"zh"},
		"channels":[{"name":"ops","type":"wecom","apiUrl":%q}],"routes":[{"receiver":"ops","channels":["ops"]}]}`, robot.URL)),
		map[string]string{"channels.ops.url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robot.Key})
	if err != nil {
		t.Fatal(err)
	}
	n, err := registry.New(s.Channels[0], s, registry.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	// The real robot answers in tens of milliseconds: the lane's texts go
	// out one after another while the first charts are ready.
	n = slowNotifier{Notifier: n, delay: 50 * time.Millisecond}
	cfg := Config{Settings: s, DataDir: queuetest.DataDir(t), Notifiers: map[string]channels.Notifier{"ops": n},
		Charter: &fakeCharter{delay: 20 * time.Millisecond}, Registerer: prometheus.NewRegistry()}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
	})
	acceptAll(t, svc, 8, "wecom")
	tally := func() (texts map[string]bool, images int) {
		texts = map[string]bool{}
		for _, m := range robot.Accepted() {
			switch m.MsgType {
			case "image":
				images++
			case "markdown", "text":
				for i := range 8 {
					if inst := fmt.Sprintf("wecom%02d--node0:9100", i); strings.Contains(string(m.Body), inst) {
						texts[inst] = true
					}
				}
			}
		}
		return
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if texts, images := tally(); len(texts) == 8 && images == 8 {
			break
		}
	}
	time.Sleep(300 * time.Millisecond)
	texts, images := tally()
	if got := len(robot.Accepted()); len(texts) != 8 || images != 8 || got != 16 {
		t.Fatalf("robot accepted %d messages: %d alerts named, %d images; want 16: 8 and 8", got, len(texts), images)
	}
}

// slowNotifier answers after delay, like a platform across the internet.
type slowNotifier struct {
	channels.Notifier
	delay time.Duration
}

func (n slowNotifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	select {
	case <-time.After(n.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return n.Notifier.Send(ctx, m)
}
