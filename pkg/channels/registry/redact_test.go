package registry_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
)

// echo is an upstream that repeats the request back — the URL, the
// headers, the body — the way a proxy's error page or a chatty platform
// error does.
type echo struct {
	*httptest.Server
	mode string // "proxy": a 502 HTML page; "platform": the platform's own error shape
	mu   sync.Mutex
	seen strings.Builder
}

func newEcho(t *testing.T, mode string) *echo {
	e := &echo{mode: mode}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		var hdr []string
		for k, v := range r.Header {
			if k != "Content-Type" && k != "User-Agent" && k != "Accept-Encoding" && k != "Content-Length" {
				hdr = append(hdr, k+": "+strings.Join(v, ","))
			}
		}
		sort.Strings(hdr)
		said := fmt.Sprintf("%s http://%s%s %s %s", r.Method, r.Host, r.URL.RequestURI(), strings.Join(hdr, " "), body)
		e.mu.Lock()
		e.seen.WriteString(said + "\n")
		e.mu.Unlock()
		q := strings.NewReplacer(`"`, `'`, "\n", " ", `\`, "/").Replace(said)
		switch {
		case mode == "proxy":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body><h1>502 Bad Gateway</h1><p>upstream failed for %s</p></body></html>", said)
		case strings.Contains(r.URL.Path, "/cgi-bin/webhook/send"), strings.Contains(r.URL.Path, "/robot/send"):
			fmt.Fprintf(w, `{"errcode":93000,"errmsg":"invalid webhook url, hint: [%s]"}`, q)
		case strings.Contains(r.URL.Path, "/open-apis/"):
			fmt.Fprintf(w, `{"code":19001,"msg":"param invalid: %s","data":{}}`, q)
		case strings.Contains(r.URL.Path, "/services/"):
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "invalid_token %s", said)
		case strings.Contains(r.URL.Path, "/bot"):
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"ok":false,"error_code":401,"description":"Unauthorized: %s"}`, q)
		case strings.HasPrefix(r.URL.Path, "/api/webhooks/"):
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"message":"Invalid Webhook Token %s","code":50027}`, q)
		case strings.HasPrefix(r.URL.Path, "/api/"):
			fmt.Fprintf(w, `{"ok":false,"error":"invalid_auth: %s"}`, q)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"code":"DirectApiAuthorizationRequired","message":"%s"}}`, q)
		}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *echo) echoed() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seen.String()
}

// A secret a platform echoes back never leaves the channels package: not
// in an error, not in the Result's body or note — for every platform, for
// a proxy's 502 page and for the platform's own error answer.
func TestSecretsNeverLeaveTheChannelsPackage(t *testing.T) {
	t.Parallel()
	type platform struct {
		ch      settings.Channel
		secrets map[string]string
		needles []string // the secret parts a leak would show
	}
	platforms := []platform{
		{settings.Channel{Type: "wecom"}, map[string]string{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37"},
			[]string{"693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37"}},
		{settings.Channel{Type: "dingtalk"}, map[string]string{
			"url":    "https://oapi.dingtalk.com/robot/send?access_token=1f8e5b6c7d2a9e0f3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a",
			"secret": "SEC5d41402abc4b2a76b9719d911017c592a8c3e9f1b2d4e6f8a0c2e4f6a8b0c2d4"},
			[]string{"1f8e5b6c7d2a9e0f3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a", "SEC5d41402abc4b2a76b9719d911017c592a8c3e9f1b2d4e6f8a0c2e4f6a8b0c2d4"}},
		{settings.Channel{Type: "feishu", FeishuAppID: "cli_a5f3c2e1d0b9a8c7"}, map[string]string{
			"url":       "https://open.feishu.cn/open-apis/bot/v2/hook/2f7c6d1e-8a4b-4c3d-9e5f-1a2b3c4d5e6f",
			"secret":    "qN3xT8vR2kL5mW9pZ1cY4b",
			"appSecret": "Xk2mP9qR4sT7vW1yZ3bC6dF8gH0jK5nL"},
			[]string{"2f7c6d1e-8a4b-4c3d-9e5f-1a2b3c4d5e6f", "Xk2mP9qR4sT7vW1yZ3bC6dF8gH0jK5nL"}},
		{settings.Channel{Type: "teams"}, map[string]string{"url": "https://prod-23.westeurope.logic.azure.com:443/workflows/8c1a4f0e2b9d4e7fa3c56b7d8e9f0a1b/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zx3kQ9mV2pL7rT4wN8bC1dF6gH0jK5sY3uE2iO9aR7t"},
			[]string{"Zx3kQ9mV2pL7rT4wN8bC1dF6gH0jK5sY3uE2iO9aR7t"}},
		{settings.Channel{Type: "slack"}, map[string]string{"url": "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx"},
			[]string{"AbCdEfGhIjKlMnOpQrStUvWx"}},
		{settings.Channel{Type: "slack", SlackChannel: "C0123456789"}, map[string]string{"token": "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"},
			[]string{"xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx"}},
		{settings.Channel{Type: "telegram", ChatID: "-1001234567890"}, map[string]string{"token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"},
			[]string{"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"}},
		{settings.Channel{Type: "discord"}, map[string]string{"url": "https://discord.com/api/webhooks/1234567890123456789/Xy9kLm3NpQr5StUv7WxYz1AbCdEf3GhIj5KlMn7OpQr9StUv1WxYz3AbCdEf5GhIj7KlMn"},
			[]string{"Xy9kLm3NpQr5StUv7WxYz1AbCdEf3GhIj5KlMn7OpQr9StUv1WxYz3AbCdEf5GhIj7KlMn"}},
		{settings.Channel{Type: "webhook"}, map[string]string{
			"url":    "https://hooks.example.com/alertchart?auth=wh_8c1a4f0e2b9d4e7fa3c5",
			"token":  "whk_4c2a9e7f1b3d5a8c0e6f2b4d7a9c1e3f",
			"secret": "d2h5c2VjcmV0LWZvci1obWFjLXNpZ25pbmc"},
			[]string{"wh_8c1a4f0e2b9d4e7fa3c5", "whk_4c2a9e7f1b3d5a8c0e6f2b4d7a9c1e3f"}},
	}
	store, _ := fixture.ImageStore(t)
	for _, mode := range []string{"proxy", "platform"} {
		for i, p := range platforms {
			up := newEcho(t, mode)
			ch := p.ch
			ch.Name, ch.APIURL = fmt.Sprintf("%s%d", ch.Type, i), up.URL
			if ch.Type == "slack" && p.secrets["token"] != "" {
				ch.APIURL = up.URL + "/api"
			}
			s := &settings.Settings{Channels: []settings.Channel{ch}, Secrets: map[string]string{}}
			for f, v := range p.secrets {
				s.Secrets[settings.ChannelSecretKey(ch.Name, f)] = v
			}
			s.ApplyDefaults()
			n, err := registry.New(ch, s, registry.Deps{Images: store})
			if err != nil {
				t.Fatalf("%s: %v", ch.Name, err)
			}
			res, sendErr := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart()))
			testRes, testErr := channels.SendTest(context.Background(), n, nil)
			if sendErr == nil && testErr == nil {
				t.Errorf("%s/%s: the echo answered an error, the send succeeded", mode, ch.Name)
			}
			out := fmt.Sprintf("%v | %+v | %#v | %v | %+v", sendErr, res, res, testErr, testRes)
			echoed := up.echoed()
			for _, needle := range p.needles {
				if !strings.Contains(echoed, needle) {
					continue // this secret is sent elsewhere (e.g. signed, not sent)
				}
				if strings.Contains(out, needle) {
					t.Errorf("%s/%s: secret %q left the channels package:\n%s", mode, ch.Name, needle, out)
				}
			}
			if !strings.Contains(echoed, p.needles[0]) {
				t.Errorf("%s/%s: the echo never saw %q; the test proves nothing", mode, ch.Name, p.needles[0])
			}
			if mode == "platform" && !strings.Contains(out, channels.Redacted) {
				t.Errorf("%s/%s: nothing was redacted from\n%s", mode, ch.Name, out)
			}
		}
	}
}
