//go:build mage
// +build mage

package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	// mage:import
	build "github.com/grafana/grafana-plugin-sdk-go/build"
)

// Default builds the backend for every platform Grafana runs AlertChart on.
var Default = BuildRelease

// pluginID is the directory name grafana-cli installs into.
const pluginID = "alertchart-webhook-app"

// BuildRelease builds CGO-free backends for linux/amd64, linux/arm64,
// darwin/arm64 and windows/amd64 into dist/.
func BuildRelease() {
	b := build.Build{}
	mg.Deps(b.Linux, b.LinuxARM64, b.DarwinARM64, b.Windows)
}

// Package zips dist/ (frontend from `npm run build` + backends from
// `mage`) into alertchart-webhook-app-<version>.zip with the layout
// `grafana-cli --pluginUrl <zip> plugins install alertchart-webhook-app`
// expects: one top-level folder named after the plugin id.
func Package() error {
	for _, f := range []string{"dist/plugin.json", "dist/module.js", "dist/gpx_alertchart_linux_amd64"} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s missing: run `npm run build` and `mage -v` first", f)
		}
	}
	var pj struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	b, err := os.ReadFile("dist/plugin.json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		return fmt.Errorf("dist/plugin.json: %w", err)
	}
	version := pj.Info.Version
	if version == "" || strings.Contains(version, "%") {
		return fmt.Errorf("dist/plugin.json has no version (%q)", version)
	}
	name := fmt.Sprintf("%s-%s.zip", pluginID, version)
	out, err := os.Create(name)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	err = filepath.WalkDir("dist", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel("dist", path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name = pluginID + "/" + filepath.ToSlash(rel)
		hdr.Method = zip.Deflate
		mode := os.FileMode(0o644)
		if strings.HasPrefix(filepath.Base(rel), "gpx_") {
			mode = 0o755 // grafana-cli keeps the run bit from the zip
		}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Println(name)
	return sh.Run("unzip", "-l", name)
}
