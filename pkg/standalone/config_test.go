package standalone

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfigSameFieldsAsPlugin(t *testing.T) {
	y := `
server:
  listen: 127.0.0.1:9999
prometheus:
  url: http://127.0.0.1:9090
  timeout: 20s
chart:
  minWindow: 15m
  language: en
channels:
  - name: ops-wecom
    type: wecom
    mentionUsers: [zhangsan]
  - name: inbox
    type: inbox
    dir: /tmp/inbox
routes:
  - receiver: ops
    channels: [ops-wecom, inbox]
secureJsonData:
  channels.ops-wecom.url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}
`
	c, err := Parse([]byte(y), env(map[string]string{"WECOM_KEY": "k-123"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:9999" || c.Prometheus.Timeout.D() != 20*time.Second || c.Chart.MinWindow.D() != 15*time.Minute {
		t.Fatalf("%+v", c)
	}
	if got := c.ChannelSecret("ops-wecom", "url"); !strings.HasSuffix(got, "key=k-123") {
		t.Fatalf("secret %q", got)
	}
	if c.Chart.MaxWindow.D() != 24*time.Hour {
		t.Fatal("defaults not applied")
	}
}

func TestParseConfigErrorsNameTheField(t *testing.T) {
	cases := map[string]string{
		"chart:\n  renderer: gpu\n":                           "chart.renderer",
		"chart:\n  widht: 3\n":                                "widht",
		"channels:\n  - name: a\n    type: inbox\n":           "channels[0].dir",
		"secureJsonData:\n  channels.a.url: ${NOPE}\n":        "environment variable NOPE",
		"routes:\n  - receiver: ops\n    channels: [ghost]\n": "routes[0].channels[0]",
		"chart:\n  minWindow: soon\n":                         "invalid duration",
		"prometheus: [1, 2]\n":                                "line 1",
	}
	for y, want := range cases {
		_, err := Parse([]byte(y), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v does not mention %q", y, err, want)
		}
	}
	if _, err := Parse(nil, env(nil)); err != nil {
		t.Errorf("empty file: %v", err)
	}
}
