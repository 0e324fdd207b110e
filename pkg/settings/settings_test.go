package settings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDefaults(t *testing.T) {
	s, err := Parse(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Chart.Renderer != "auto" || s.Chart.WindowMultiplier != 2 || s.Chart.MinWindow.D() != 10*time.Minute ||
		s.Chart.MaxWindow.D() != 24*time.Hour || s.Chart.Width != 1000 || s.Chart.Height != 500 ||
		s.Chart.MaxSeries != 10 || s.Chart.Budget.D() != 5*time.Second || s.Webhook.MaxBodyBytes != 4<<20 ||
		s.Delivery.Queue != "sqlite" || s.Delivery.RetryHorizon.D() != time.Hour || s.Delivery.Sync != "normal" {
		t.Fatalf("defaults: %+v", s)
	}
}

func TestParseFull(t *testing.T) {
	js := `{"prometheus":{"url":"http://prom:9090","timeout":"15s"},
	"chart":{"windowMultiplier":3,"minWindow":"5m","maxWindow":"12h","theme":"light","language":"en","timezone":"Asia/Shanghai"},
	"channels":[{"name":"ops-wecom","type":"wecom","mentionUsers":["zhangsan"]},{"name":"ops-tg","type":"telegram","chatId":"-100"}],
	"routes":[{"receiver":"ops","channels":["ops-wecom"]},{"receiver":"ops","channels":["ops-tg"],"match":{"team":"db"}}]}`
	s, err := Parse([]byte(js), map[string]string{"channels.ops-wecom.url": "https://qyapi/x?key=k"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Prometheus.Timeout.D() != 15*time.Second || s.Chart.MinWindow.D() != 5*time.Minute {
		t.Fatalf("%+v", s)
	}
	if got := s.ChannelSecret("ops-wecom", SecretURL); got != "https://qyapi/x?key=k" {
		t.Fatal(got)
	}
	if got := s.ChannelsFor("ops", map[string]string{"team": "web"}); strings.Join(got, ",") != "ops-wecom" {
		t.Fatal(got)
	}
	if got := s.ChannelsFor("ops", map[string]string{"team": "db"}); strings.Join(got, ",") != "ops-wecom,ops-tg" {
		t.Fatal(got)
	}
	if !s.ReceiverKnown("ops") || s.ReceiverKnown("dev") {
		t.Fatal("receiver routing")
	}
	// Secrets never serialise.
	b, _ := json.Marshal(s)
	if strings.Contains(string(b), "key=k") {
		t.Fatalf("secret leaked into JSON: %s", b)
	}
}

func TestValidationNamesEveryField(t *testing.T) {
	js := `{"chart":{"renderer":"gpu","theme":"blue","timezone":"Mars/Base","minWindow":"2h","maxWindow":"1h","maxSeries":1000},
	"channels":[{"name":"a","type":"pager"},{"name":"a","type":"wecom"}],
	"routes":[{"receiver":"ops","channels":["missing"]}],
	"delivery":{"queue":"postgres","sync":"off"},"imageStore":{"endpoint":"s3.example.com","presignExpiry":"200h"},
	"prometheus":{"scrapeInterval":"500ms"},"alertmanager":{"url":"javascript:alert(1)//"}}`
	_, err := Parse([]byte(js), nil)
	var ve ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want ValidationError, got %v", err)
	}
	want := []string{"chart.renderer", "chart.theme", "chart.timezone", "chart.minWindow", "chart.maxSeries",
		"channels[0].type", "channels[1].name", "routes[0].channels[0]", "delivery.sync", "secureJsonData.postgresDsn",
		"imageStore.presignExpiry", "imageStore.bucket", "prometheus.scrapeInterval", "alertmanager.url"}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w+":") {
			t.Errorf("missing %s in %s", w, msg)
		}
	}
}

func TestParseRejectsTyposAndBadDurations(t *testing.T) {
	if _, err := Parse([]byte(`{"chart":{"widht":3}}`), nil); err == nil || !strings.Contains(err.Error(), "widht") {
		t.Fatalf("typo accepted: %v", err)
	}
	if _, err := Parse([]byte(`{"chart":{"minWindow":"ten minutes"}}`), nil); err == nil || !strings.Contains(err.Error(), "invalid duration") {
		t.Fatalf("bad duration accepted: %v", err)
	}
	s, err := Parse([]byte(`{"chart":{"budget":3}}`), nil)
	if err != nil || s.Chart.Budget.D() != 3*time.Second {
		t.Fatalf("numeric seconds: %v %v", err, s)
	}
}
