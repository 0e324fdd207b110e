package fonts

import (
	"os"
	"strings"
	"testing"
)

func TestSystemFontDiscovery(t *testing.T) {
	// An env override that is not a font is skipped, not fatal.
	f, path := discoverSystem("/nonexistent/font.ttc", "linux", "")
	if f != nil && path == "/nonexistent/font.ttc" {
		t.Error("bogus override accepted")
	}
	paths := candidatePaths("windows", `D:\Win`)
	if !strings.HasPrefix(paths[0], `D:\Win`) {
		t.Errorf("windows paths ignore WINDIR: %v", paths)
	}
	// With Debian's fonts-noto-cjk installed, pointing the override at it
	// selects the Simplified Chinese member of the collection. Without it
	// discovery falls through to another system font, which is no failure.
	const noto = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
	if _, err := os.Stat(noto); err != nil {
		t.Skipf("%s is not installed on this host (fonts-noto-cjk)", noto)
	}
	f, path = discoverSystem(noto, "linux", "")
	if f == nil {
		t.Fatalf("%s exists but was not usable", noto)
	}
	if path != noto || !strings.Contains(f.Name, "SC") {
		t.Errorf("picked %q from %s", f.Name, path)
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
