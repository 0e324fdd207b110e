package delivery

import (
	"os"
	"path/filepath"

	"github.com/alertchart/alertchart/pkg/settings"
)

// Environment variables consulted by ChooseDataDir.
const (
	// EnvPluginDataDir carries `[plugin.alertchart-webhook-app] data_dir = …`
	// from grafana.ini: Grafana passes every key of the plugin's ini section
	// to the plugin process as GF_PLUGIN_<KEY>.
	EnvPluginDataDir = "GF_PLUGIN_DATA_DIR"
	// EnvGrafanaDataPath is Grafana's own data path when it is exported
	// (`[paths] data`, set by the official images and packages).
	EnvGrafanaDataPath = "GF_PATHS_DATA"
)

// ChooseDataDir picks the directory of the embedded SQLite queue, in order:
// settings delivery.dataDir, then $GF_PLUGIN_DATA_DIR, then
// $GF_PATHS_DATA/alertchart, then a directory under the system temp dir. The
// last choice survives a plugin restart but not a machine reboot or a
// container replacement, so it comes with a warning meant for the health check.
func ChooseDataDir(s *settings.Settings) (dir string, warning string) {
	if s != nil && s.Delivery.DataDir != "" {
		return s.Delivery.DataDir, ""
	}
	if d := os.Getenv(EnvPluginDataDir); d != "" {
		return d, ""
	}
	if d := os.Getenv(EnvGrafanaDataPath); d != "" {
		return filepath.Join(d, "alertchart"), ""
	}
	return filepath.Join(os.TempDir(), "alertchart-webhook-app"),
		"the delivery queue lives in a temporary directory and may be lost on reboot; set delivery.dataDir, " +
			"or data_dir in the [plugin.alertchart-webhook-app] section of grafana.ini"
}
