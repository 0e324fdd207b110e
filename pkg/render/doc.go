// Package render is AlertChart's native chart renderer: it draws an alert's
// series as a PNG (or JPEG) that looks like a Grafana time series panel, in
// process, in pure Go (CGO-free, no browser), so the plugin cross-compiles
// for every Grafana host.
//
// # Use
//
//	img, err := render.Render(&render.Chart{
//		Title: "主机CPU使用率过高", Series: ss, Thresholds: th,
//		AlertStart: startsAt, From: from, To: to, Unit: "percent",
//		Style: style, // from StyleFromPanel(templatePanelJSON), or zero
//	}, render.Options{Theme: "dark", Location: loc, Language: "zh", LegendFormat: "{{instance}}"})
//
// Render validates its input (sizes, theme, format, ranges; ErrTooLarge for
// oversized inputs) and never returns an image over Options.MaxBytes: a PNG
// that would be larger is re-encoded as JPEG. A chart without samples in the
// window becomes an honest "no data" image showing Chart.NoDataReason.
//
// # What is drawn
//
// Title, with the time axis' zone right-aligned beside it as a UTC offset
// ("UTC+08:00": an abbreviation such as CST is ambiguous; ZoneLabel); a
// grid with round time ticks (1 s … 1 year, ≥ 80 px apart, in
// Options.Location) and "nice" value ticks in one scaled unit per axis
// ("0.5 GiB", "25 ms"); anti-aliased lines in Grafana's classic palette
// (x/image/vector, strokes rasterised in short chunks so the work follows the
// line, not the plot area); optional fill; lines break at NaN samples and at
// gaps longer than twice the series' median step (or as the panel's
// spanNulls says); the alert rule's thresholds as dashed red lines labelled
// with their condition ("> 80%", or "> 1.44% (5m, 1h)" when a threshold
// applies to some series only, as each tier of a burn-rate alert does);
// range thresholds (Grafana Alerting's within_range, outside_range and
// their _included forms) as a lightly shaded band over the values the
// alert fires on — between the bounds or beyond them — with both edges
// dashed and labelled "18°C < x < 27°C" or "x ≤ 100 or x ≥ 400";
// the panel's own thresholds as lines/areas when its thresholdsStyle asks; dots for sparse or lone samples; step lines
// and a log value axis when the panel asks; the
// firing period lightly shaded with a dashed marker, a triangle on the axis
// and "告警开始 10:27:10" / "alert start 10:27:10" (plus a green "resolved"
// marker when AlertEnd is set; labels sit on a backing, on separate rows
// when they would touch, stacked left of the firing period when both crowd
// the right edge, along the plot's top edge or, when fewer lines run
// there, its bottom edge, so the backing never hides the peak that fired
// the alert); a legend table with colour swatch, name
// (Options.LegendFormat or the template panel's legendFormat, else
// Series.Name, else — like Grafana's automatic legend — the labels that
// differ between the series), right-aligned
// Max / Min / Last * columns (or the panel's legend calcs) formatted in the
// unit, names ellipsised, capped at half the image height with
// "… N more series" (or a list legend, a table on the right, or none, as the
// template panel says). Units follow Grafana's formatters (package units).
//
// Field overrides that select series by name or regexp apply their colour,
// line width, fill opacity and hideFrom.viz. Not drawn: stacking,
// bars/points draw styles, gradient fills, other override properties and
// right-hand axes — alert charts rarely need them, and a template panel
// using them still renders, as plain lines.
//
// Each drawing element has its own file (title.go, axis.go, thresholds.go,
// markers.go, lines.go, legend_layout.go, nodata.go); spacing.go names
// every gap of the layout.
//
// # Style precedence
//
// Chart.Unit/Decimals/Min/Max (the chart's own query knowledge) win over
// Style (a template panel shared by every chart), which wins over defaults.
// Style.LegendFormat (the template panel's query legend) wins over
// Options.LegendFormat (the global setting).
//
// # Fonts
//
// Text is drawn glyph by glyph from a font chain (package fonts):
//
//  1. Inter Regular/Medium, embedded — Grafana's UI font, for Latin text.
//  2. Noto Sans CJK SC, embedded as a GB2312 subset (6,763 hanzi, symbols,
//     full-width forms; 1.5 MB) — Chinese renders the same on every host
//     and in CI.
//  3. A full CJK font found on the host at first use: the file named by
//     ALERTCHART_CJK_FONT, else well-known paths (Noto CJK / Droid Sans
//     Fallback on Linux, Hiragino/STHeiti/Arial Unicode on macOS, Microsoft
//     YaHei/SimHei/SimSun under %WINDIR%\Fonts on Windows). Collections pick
//     their Simplified Chinese member. The file is read on demand, not loaded.
//  4. Otherwise the rune is drawn as a .notdef box and logged once (slog).
//
// The fonts are OFL-1.1; fonts/LICENSE-*.txt ship the licence texts and are
// embedded as fonts.LicenseInter / fonts.LicenseNotoSansCJK for an "about"
// page. fonts/gen_cjk_subset.py regenerates the subset (dev tool only).
// Kerning uses sfnt.Font.Kern directly, because opentype.Face.Kern returns
// unscaled units (golang/go#46727).
//
// Time zone data is embedded (time/tzdata) so Options.Location works on
// Windows hosts without a zoneinfo database.
//
// # Speed
//
// PNG encoding costs more than drawing, so the encoder writes 8-bit RGB with
// one cheap filter per row (Up for repeated rows, else Sub) and
// klauspost/compress zlib at BestSpeed; canvases (image, coverage and mask
// buffers) and compressors are pooled. Measured on the 2-core build machine
// with other builds running (load ≈ 3), 10 series × 720 points, full panel
// (title, grid, threshold, alert marker and shading, 10-row legend),
// render + encode, medians of -count 8:
//
//	1000×500                 11 ms   0.9 MB allocated   256 KiB PNG
//	2000×1000 (ratio 2)      28 ms   1.1 MB allocated   661 KiB PNG
//	2000×1000 (ratio 1)      30 ms   1.3 MB allocated   909 KiB PNG
//	1000×500, 20 % fill      24 ms   1.0 MB
//	2000×1000 ratio 2, fill  54 ms   1.7 MB
//	1000×500 JPEG            17 ms   0.4 MB             119 KiB
//
// (a cold first render also allocates its 2 / 8 MB canvas). Under heavier
// load the wall-clock medians rise while the cpu-ms/op metric the
// benchmarks report stays put. Run:
//
//	go test ./pkg/render -run '^$' -bench . -benchmem -count 8
//
// # Looking at the output
//
//	go run ./pkg/render/cmd/chartsamples            # writes PNGs to a temp dir
//	go test ./pkg/render -run TestReferenceImages -update   # refresh testdata/
//
// # Files
//
// One drawing element per file: render.go (Chart, Options, Render: the
// order everything is drawn in), spacing.go (every gap, named), theme.go
// and colors.go (Grafana's palettes), title.go, axis.go, plot.go (data
// range and the plot area), lines.go (the series and moving references),
// thresholds.go (lines, areas and bands), markers.go (alert start,
// resolved), legend.go and legend_layout.go (the Max / Min / Last table),
// nodata.go; canvas.go and text.go (the pixels and glyphs underneath),
// encode.go (PNG, JPEG); style.go and panel.go (a Style, and one read from
// a Grafana panel).
package render
