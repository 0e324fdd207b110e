// Package fonts provides the renderer's font chain: embedded Inter (Grafana's
// UI font) for Latin text, an embedded GB2312 subset of Noto Sans CJK SC for
// Chinese, then a full CJK font found on the host for anything rarer.
//
// Glyphs are chosen per rune: the first font in the chain that has the rune
// draws it. A rune no font has is drawn as Inter's .notdef box and logged
// once, so a missing glyph is visible in the logs instead of silently wrong.
//
// The embedded files are OFL-1.1 licensed; LICENSE-Inter.txt and
// LICENSE-NotoSansCJK.txt ship beside them. gen_cjk_subset.py regenerates the
// subset (a dev tool; builds only embed the committed file).
package fonts

import (
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/image/font/sfnt"
)

var (
	//go:embed Inter-Regular.otf
	interRegular []byte
	//go:embed Inter-Medium.otf
	interMedium []byte
	//go:embed NotoSansSC-GB2312.otf
	notoSC []byte

	//go:embed LICENSE-Inter.txt
	LicenseInter string
	//go:embed LICENSE-NotoSansCJK.txt
	LicenseNotoSansCJK string
)

// EnvCJKFont names the environment variable that points at a CJK font file
// (.ttf, .otf or .ttc) to use after the embedded subset.
const EnvCJKFont = "ALERTCHART_CJK_FONT"

// Font is one font of a chain.
type Font struct {
	Name string
	SFNT *sfnt.Font
}

// Chain is an ordered list of fonts tried rune by rune. It is safe for
// concurrent use.
type Chain struct {
	Fonts []Font
	cache sync.Map // rune → lookup
}

type lookup struct {
	font int
	idx  sfnt.GlyphIndex
}

var (
	loadOnce        sync.Once
	regular, medium *Chain
	systemFont      *Font
	systemPath      string
	loadErr         error
	missingLogged   sync.Map
)

func load() {
	reg, err := sfnt.Parse(interRegular)
	if err != nil {
		loadErr = fmt.Errorf("embedded Inter Regular: %w", err)
		return
	}
	med, err := sfnt.Parse(interMedium)
	if err != nil {
		loadErr = fmt.Errorf("embedded Inter Medium: %w", err)
		return
	}
	cjk, err := sfnt.Parse(notoSC)
	if err != nil {
		loadErr = fmt.Errorf("embedded Noto Sans CJK SC subset: %w", err)
		return
	}
	systemFont, systemPath = discoverSystem(os.Getenv(EnvCJKFont), runtime.GOOS, os.Getenv("WINDIR"))
	cj := Font{Name: "Noto Sans CJK SC (GB2312 subset, embedded)", SFNT: cjk}
	regular = &Chain{Fonts: []Font{{Name: "Inter Regular (embedded)", SFNT: reg}, cj}}
	medium = &Chain{Fonts: []Font{{Name: "Inter Medium (embedded)", SFNT: med}, cj}}
	if systemFont != nil {
		regular.Fonts = append(regular.Fonts, *systemFont)
		medium.Fonts = append(medium.Fonts, *systemFont)
	}
}

// Regular returns the chain for body text (axis labels, legend).
func Regular() (*Chain, error) {
	loadOnce.Do(load)
	return regular, loadErr
}

// Medium returns the chain for titles.
func Medium() (*Chain, error) {
	loadOnce.Do(load)
	return medium, loadErr
}

// System reports the host CJK font in use after the embedded subset, and the
// file it came from; ok is false when none was found.
func System() (name, path string, ok bool) {
	loadOnce.Do(load)
	if systemFont == nil {
		return "", "", false
	}
	return systemFont.Name, systemPath, true
}

// Lookup returns the font and glyph that draw r. ok is false when no font in
// the chain has r; the returned glyph is then the first font's .notdef, and
// the miss is logged once per rune per process.
func (c *Chain) Lookup(buf *sfnt.Buffer, r rune) (f *sfnt.Font, idx sfnt.GlyphIndex, ok bool) {
	if v, hit := c.cache.Load(r); hit {
		l := v.(lookup)
		return c.Fonts[l.font].SFNT, l.idx, l.idx != 0 || l.font != 0
	}
	for i, ft := range c.Fonts {
		g, err := ft.SFNT.GlyphIndex(buf, r)
		if err == nil && g != 0 {
			c.cache.Store(r, lookup{font: i, idx: g})
			return ft.SFNT, g, true
		}
	}
	c.cache.Store(r, lookup{})
	if _, seen := missingLogged.LoadOrStore(r, true); !seen {
		slog.Warn("alertchart: no font has a glyph for this character; it is drawn as a box",
			"rune", fmt.Sprintf("U+%04X", r), "char", string(r),
			"hint", "install a CJK font (e.g. Noto Sans CJK) or set "+EnvCJKFont)
	}
	return c.Fonts[0].SFNT, 0, false
}

// Has reports whether some font in the chain has a glyph for r.
func (c *Chain) Has(r rune) bool {
	var buf sfnt.Buffer
	for _, ft := range c.Fonts {
		if g, err := ft.SFNT.GlyphIndex(&buf, r); err == nil && g != 0 {
			return true
		}
	}
	return false
}

// candidatePaths lists well-known CJK font files per OS, best first.
func candidatePaths(goos, windir string) []string {
	switch goos {
	case "windows":
		if windir == "" {
			windir = `C:\Windows`
		}
		fontsDir := filepath.Join(windir, "Fonts")
		var out []string
		for _, f := range []string{"msyh.ttc", "msyh.ttf", "Deng.ttf", "simhei.ttf", "simsun.ttc", "msjh.ttc"} {
			out = append(out, filepath.Join(fontsDir, f))
		}
		return out
	case "darwin":
		return []string{
			"/System/Library/Fonts/Hiragino Sans GB.ttc",
			"/System/Library/Fonts/STHeiti Medium.ttc",
			"/System/Library/Fonts/STHeiti Light.ttc",
			"/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
			"/Library/Fonts/Arial Unicode.ttf",
			"/System/Library/Fonts/PingFang.ttc",
		}
	}
	return []string{
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", // Debian, Ubuntu
		"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",      // Arch, Alpine
		"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc", // Fedora
		"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
		"/usr/share/fonts/noto-cjk/NotoSansCJKsc-Regular.otf",
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
		"/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf",
		"/usr/share/fonts/truetype/arphic/uming.ttc",
	}
}

// discoverSystem opens the first usable CJK font: the env override, then the
// known paths. Files stay open and are read on demand (a full Noto CJK
// collection is ~20 MB; reading it whole would waste memory).
func discoverSystem(env, goos, windir string) (*Font, string) {
	paths := candidatePaths(goos, windir)
	if env != "" {
		paths = append([]string{env}, paths...)
	}
	for i, p := range paths {
		f, err := openCJK(p)
		if err != nil {
			if i == 0 && env != "" {
				slog.Warn("alertchart: "+EnvCJKFont+" is not a usable CJK font; trying known system paths",
					"path", p, "error", err)
			}
			continue
		}
		return f, p
	}
	return nil, ""
}

// openCJK opens a font or collection and picks the member best suited to
// Simplified Chinese: one that has 中 and whose name says SC/GB/Simplified.
func openCJK(path string) (*Font, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fonts, err := parseAny(file)
	if err != nil {
		file.Close()
		return nil, err
	}
	var buf sfnt.Buffer
	best, bestScore := -1, -1
	for i, f := range fonts {
		g, err := f.GlyphIndex(&buf, '中')
		if err != nil || g == 0 {
			continue
		}
		name, _ := f.Name(&buf, sfnt.NameIDFull)
		score := 1
		up := strings.ToUpper(name)
		if strings.Contains(up, " SC") || strings.Contains(up, "GB") || strings.Contains(up, "SIMPLIFIED") ||
			strings.Contains(up, "YAHEI") || strings.Contains(up, "HEI") {
			score = 2
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		file.Close()
		return nil, fmt.Errorf("%s has no CJK glyphs", path)
	}
	name, _ := fonts[best].Name(&buf, sfnt.NameIDFull)
	if name == "" {
		name = filepath.Base(path)
	}
	return &Font{Name: name + " (system)", SFNT: fonts[best]}, nil
}

func parseAny(r io.ReaderAt) ([]*sfnt.Font, error) {
	c, err := sfnt.ParseCollectionReaderAt(r)
	if err != nil {
		return nil, err
	}
	out := make([]*sfnt.Font, 0, c.NumFonts())
	for i := 0; i < c.NumFonts(); i++ {
		f, err := c.Font(i)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
