// Command gpx_alertchart is the AlertChart plugin's backend, started by
// Grafana through the plugin SDK (go-plugin over gRPC).
package main

import (
	"context"
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/app"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/alertchart/alertchart/pkg/plugin"
)

func main() {
	// Grafana calls nothing that carries settings when it starts a plugin:
	// ask it for a health check so queued deliveries resume at once.
	plugin.ResumeAtStart(context.Background(), log.DefaultLogger)
	// Manage serves Grafana's calls until Grafana stops the process; it
	// creates an App per organisation and settings version and disposes
	// replaced ones.
	if err := app.Manage(plugin.PluginID, plugin.NewApp, app.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
