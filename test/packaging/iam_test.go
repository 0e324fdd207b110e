package packaging

import (
	"path/filepath"
	"slices"
	"testing"

	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

// TestIAMCoversWhatThePluginCalls: the managed service account Grafana
// creates from plugin.json "iam" holds every permission the fake Grafana
// checks on the calls AlertChart makes (dashboards, folders, the renderer,
// data source reads and queries, alert rules: alert.rules:read with
// folders:read reads a rule through the provisioning API and the rules
// resource API alike).
func TestIAMCoversWhatThePluginCalls(t *testing.T) {
	var pj struct {
		IAM struct {
			Permissions []struct{ Action, Scope string } `json:"permissions"`
		} `json:"iam"`
	}
	readJSON(t, filepath.Join(root(t), "src", "plugin.json"), &pj)
	var actions []string
	for _, p := range pj.IAM.Permissions {
		actions = append(actions, p.Action)
		if p.Action == fakegrafana.PermAlertRulesRead && p.Scope != "folders:*" {
			t.Errorf("alert.rules:read is scoped %q; rules are read in every folder (folders:*)", p.Scope)
		}
	}
	for _, need := range fakegrafana.AllPermissions {
		if !slices.Contains(actions, need) {
			t.Errorf("plugin.json iam lacks %s, which the plugin's calls need", need)
		}
	}
}
