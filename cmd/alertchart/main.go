// Command alertchart is AlertChart without Grafana: the plugin's pipeline
// and routes on a plain HTTP listener, configured by a YAML file with the
// plugin's settings fields.
//
//	alertchart -config alertchart.yaml
//	alertchart -config alertchart.yaml -check   # validate and exit
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/alertchart/alertchart/pkg/standalone"
)

func main() {
	path := flag.String("config", "alertchart.yaml", "settings file (YAML, the plugin's settings fields)")
	listen := flag.String("listen", "", "listen address, overrides server.listen")
	check := flag.Bool("check", false, "validate the settings file and exit")
	flag.Parse()

	cfg, err := standalone.Load(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertchart: %s: %v\n", *path, err)
		os.Exit(2)
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *check {
		if err := cfg.Check(); err != nil {
			fmt.Fprintf(os.Stderr, "alertchart: %s: %v\n", *path, err)
			os.Exit(2)
		}
		fmt.Printf("%s: ok (%d channels, %d routes)\n", *path, len(cfg.Channels), len(cfg.Routes))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New()
	srv, err := standalone.New(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertchart: %v\n", err)
		os.Exit(1)
	}
	addr, err := srv.Listen()
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertchart: listen: %v\n", err)
		os.Exit(1)
	}
	if w := cfg.SecurityWarning(); w != "" {
		// Also in plain words, not only in the JSON log.
		fmt.Fprintf(os.Stderr, "\n!!! alertchart: %s\n\n", w)
	}
	logger.Info("AlertChart standalone server listening", "address", "http://"+addr)
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "alertchart: %v\n", err)
		os.Exit(1)
	}
}
