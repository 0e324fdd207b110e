package i18n

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

func placeholders(s string) []string {
	p := placeholderRE.FindAllString(s, -1)
	slices.Sort(p)
	return slices.Compact(p)
}

func TestEveryIDInBothLanguages(t *testing.T) {
	for lang, other := range map[string]string{ZH: EN, EN: ZH} {
		for id, text := range catalogue[lang] {
			o, ok := catalogue[other][id]
			if !ok {
				t.Errorf("%s is in %s but not in %s", id, lang, other)
				continue
			}
			if a, b := placeholders(text), placeholders(o); !slices.Equal(a, b) {
				t.Errorf("%s: placeholders %v in %s, %v in %s", id, a, lang, b, other)
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s is empty in %s", id, lang)
			}
		}
	}
	if len(catalogue) != 2 {
		t.Errorf("languages %d, want zh and en", len(catalogue))
	}
}

// The texts go into chat markup unescaped: none may start markup. Health
// texts are shown on the config page only and may name settings as written.
func TestTextsAreMarkupNeutral(t *testing.T) {
	for lang, texts := range catalogue {
		for id, text := range texts {
			if strings.HasPrefix(id, HealthPrefix) {
				continue
			}
			if i := strings.IndexAny(placeholderRE.ReplaceAllString(text, ""), "*_~`[]<>&#|\\{}"); i >= 0 {
				t.Errorf("%s/%s: markup character in %q", lang, id, text)
			}
		}
	}
}

func TestT(t *testing.T) {
	cases := []struct{ got, want string }{
		{T("zh", "chart.unavailable", "reason", T("zh", "chart.reason.no_store")), "图表不可用：未配置图片存储"},
		{T("en-US", "alert.started.firing", "start", "09:55", "duration", 5*time.Minute), "Started: 09:55 (for 5m)"},
		{T("", "alert.started.firing", "start", "09:55", "duration", 5*time.Minute), "开始：09:55（已持续 5分钟）"},
		{T("en", "alerts.more", "count", 3), "… and 3 more alerts"},
		{T("en", "alerts.more"), "… and {count} more alerts"},
		{T("en", "no.such.id"), "no.such.id"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	m := M("chart.unavailable", "reason", "renderer down")
	if m.Text("en") != "chart unavailable: renderer down" || m.Text("zh") != "图表不可用：renderer down" {
		t.Errorf("%q / %q", m.Text("en"), m.Text("zh"))
	}
	b, _ := json.Marshal(m)
	if string(b) != `{"code":"chart.unavailable","args":{"reason":"renderer down"}}` {
		t.Errorf("%s", b)
	}
	if p := Placeholders("health.webhook.refused"); !slices.Equal(p, []string{"count", "caller", "since", "reason"}) {
		t.Errorf("placeholders %v", p)
	}
	if Placeholders("no.such.id") != nil || len(Placeholders("status.firing")) != 0 {
		t.Error("placeholders of an unknown id or a plain text")
	}
	if got := Fill("en", "health.webhook.refused", map[string]string{"count": "3", "caller": "bob"}); got != "refused 3 webhook request(s) from bob since : " {
		t.Errorf("Fill: %q", got)
	}
	if !Has("status.firing") || Has("status.nope") || len(IDs()) != len(catalogue[ZH]) {
		t.Error("Has/IDs")
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration][2]string{
		0:                                     {"0秒", "0s"},
		-time.Minute:                          {"0秒", "0s"},
		400 * time.Millisecond:                {"0秒", "0s"},
		45 * time.Second:                      {"45秒", "45s"},
		5 * time.Minute:                       {"5分钟", "5m"},
		5*time.Minute + 30*time.Second:        {"5分钟30秒", "5m30s"},
		90 * time.Minute:                      {"1小时30分钟", "1h30m"},
		time.Hour + 5*time.Second:             {"1小时", "1h"},
		50*time.Hour + 3*time.Minute:          {"2天2小时", "2d2h"},
		10*time.Minute + 499*time.Millisecond: {"10分钟", "10m"},
	} {
		if zh, en := Duration("zh", d), Duration("en", d); zh != want[0] || en != want[1] {
			t.Errorf("%v: %q %q, want %q", d, zh, en, want)
		}
	}
	if T("zh", "chart.window", "span", Duration("zh", 10*time.Minute)) != "最近10分钟" {
		t.Error("chart window")
	}
}
