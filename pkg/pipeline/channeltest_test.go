package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
)

// The config page's test message — its text, its chart's title and the
// chart image's own words — is in the channel's language, not
// chart.language's.
func TestChannelTestFollowsTheChannelsLanguage(t *testing.T) {
	zhDir, enDir := t.TempDir(), t.TempDir()
	p := pipelineFrom(t, fmt.Sprintf(`{"chart":{"language":"zh"},"delivery":{"dataDir":%q},
		"channels":[{"name":"box-zh","type":"inbox","dir":%q},{"name":"box-en","type":"inbox","dir":%q,"language":"en"}]}`,
		queuetest.DataDir(t), zhDir, enDir))
	read := func(dir, ext string) []byte {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		if len(files) != 1 {
			t.Fatalf("%s: %d %s files", dir, len(files), ext)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, name := range []string{"box-zh", "box-en"} {
		if res, err := p.TestChannel(context.Background(), name); err != nil || res == nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	zh, en := string(read(zhDir, ".md")), string(read(enDir, ".md"))
	for _, want := range []string{"CPU usage on web-01 is above 90%", "📊 CPU usage", "last 20m"} {
		if !strings.Contains(en, want) {
			t.Errorf("English channel's test message lacks %q:\n%s", want, en)
		}
	}
	if strings.Contains(en, "最近") || strings.Contains(en, "使用率") {
		t.Errorf("Chinese words in the English channel's test message:\n%s", en)
	}
	for _, want := range []string{"web-01 CPU 使用率超过 90%", "CPU 使用率（最近20分钟）"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese channel's test message lacks %q:\n%s", want, zh)
		}
	}
	if bytes.Equal(read(zhDir, ".png"), read(enDir, ".png")) {
		t.Error("both channels got the same chart image")
	}
}
