package delivery

import (
	"path/filepath"
	"testing"
)

func TestChooseDataDir(t *testing.T) {
	s := testSettings(t)
	t.Setenv(EnvPluginDataDir, "")
	t.Setenv(EnvGrafanaDataPath, "")
	dir, warn := ChooseDataDir(s)
	if warn == "" || dir == "" {
		t.Fatalf("temp fallback must warn: %q %q", dir, warn)
	}
	t.Setenv(EnvGrafanaDataPath, "/var/lib/grafana")
	if dir, warn := ChooseDataDir(s); dir != filepath.Join("/var/lib/grafana", "alertchart") || warn != "" {
		t.Fatalf("grafana data path: %q %q", dir, warn)
	}
	t.Setenv(EnvPluginDataDir, "/srv/alertchart")
	if dir, _ := ChooseDataDir(s); dir != "/srv/alertchart" {
		t.Fatalf("plugin ini data_dir: %q", dir)
	}
	s.Delivery.DataDir = "/data/q"
	if dir, _ := ChooseDataDir(s); dir != "/data/q" {
		t.Fatalf("settings: %q", dir)
	}
}
