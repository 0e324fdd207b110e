package pluginhost

import (
	"testing"
	"time"
)

// TestEverySaveIsANewLastUpdated: the SDK rebuilds an app instance only when
// LastUpdatedMS changes, so settings saved in quick succession (a broken
// save and its fix within one millisecond) must each get a new one, or the
// plugin would keep serving the earlier settings.
func TestEverySaveIsANewLastUpdated(t *testing.T) {
	h := &Host{settings: map[int64]Settings{}, updated: map[int64]time.Time{}}
	last := int64(-1)
	for i := 0; i < 1000; i++ {
		h.SetOrgSettings(2, Settings{JSONData: []byte(`{}`)})
		ms := h.PluginContextIn(2, nil).AppInstanceSettings.LastUpdatedMS
		if ms <= last {
			t.Fatalf("save %d: LastUpdatedMS %d, not after the previous save's %d", i, ms, last)
		}
		last = ms
	}
}
