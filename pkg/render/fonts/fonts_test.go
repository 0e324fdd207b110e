package fonts

import (
	"strings"
	"testing"
)

func TestSystemFontDiscovery(t *testing.T) {
	// An env override that is not a font is skipped, not fatal.
	f, path := discoverSystem("/nonexistent/font.ttc", "linux", "")
	if f != nil && path == "/nonexistent/font.ttc" {
		t.Error("bogus override accepted")
	}
	// This host has Debian's fonts-noto-cjk; pointing the override at it
	// selects the Simplified Chinese member of the collection.
	const noto = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
	f, path = discoverSystem(noto, "linux", "")
	if f == nil {
		t.Skip("no system CJK font on this host")
	}
	if path != noto || !strings.Contains(f.Name, "SC") {
		t.Errorf("picked %q from %s", f.Name, path)
	}
	paths := candidatePaths("windows", `D:\Win`)
	if !strings.HasPrefix(paths[0], `D:\Win`) {
		t.Errorf("windows paths ignore WINDIR: %v", paths)
	}
}

func TestChainCoversLatinAndCJK(t *testing.T) {
	c, err := Regular()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "Max Min Last * µs 告警开始 恢复 （北京）…" {
		if !c.Has(r) {
			t.Errorf("chain lacks %q", r)
		}
	}
	if LicenseInter == "" || !strings.Contains(LicenseNotoSansCJK, "SIL OPEN FONT LICENSE") {
		t.Error("licence texts are not embedded")
	}
}
