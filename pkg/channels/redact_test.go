package channels_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
)

func TestRedactorRemovesSecretsAndTheirParts(t *testing.T) {
	t.Parallel()
	r := channels.NewRedactor(
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37",
		"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
		"https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx",
		"SEC5d41402abc4b2a76b9719d911017c592a8c3e9f1b2d4e6f8a0c2e4f6a8b0c2d4",
		"",
	)
	in := `<html><p>502 Bad Gateway for POST http://proxy.internal/cgi-bin/webhook/send?key=693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37</p>
GET /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ/sendMessage, /services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx
secret=SEC5d41402abc4b2a76b9719d911017c592a8c3e9f1b2d4e6f8a0c2e4f6a8b0c2d4 escaped key%3D693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37
Authorization: Bearer xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx {"app_secret": "Xk2mP9qR4sT7vW1yZ3bC6dF8gH0jK5nL"}
the webhooks are fine, invoke them</html>`
	out := r.String(in)
	for _, secret := range []string{"693a91f6", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ", "AbCdEfGhIjKlMnOpQrStUvWx", "SEC5d41402",
		"xoxb-", "Xk2mP9qR4sT7vW1yZ3bC6dF8gH0jK5nL"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s survived:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "the webhooks are fine, invoke them") || !strings.Contains(out, "/cgi-bin/webhook/send?key=[redacted]") {
		t.Errorf("redacted too much:\n%s", out)
	}
	// Errors keep their class and what they wrap.
	cause := fmt.Errorf("posting to key=693a91f6-7f1e-4b6c-9d2a-0c5e8b1f4a37: %w", context.Canceled)
	err := r.Error(&channels.Error{Kind: channels.Retryable, StatusCode: 502, Msg: "HTTP 502: " + in, Err: cause, Sent: channels.PartText})
	var e *channels.Error
	if !errors.As(err, &e) || e.Kind != channels.Retryable || e.StatusCode != 502 || e.Sent != channels.PartText || !errors.Is(err, context.Canceled) {
		t.Fatalf("%#v", err)
	}
	if strings.Contains(err.Error(), "693a91f6") || strings.Contains(err.Error(), "AAHdqTcv") {
		t.Errorf("secret in error: %s", err)
	}
	res := r.Result(&channels.Result{Body: in, Note: "image upload failed: " + in})
	if strings.Contains(res.Body+res.Note, "693a91f6") {
		t.Error("secret in result")
	}
}
