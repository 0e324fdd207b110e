package render

// The panel's geometry, in CSS pixels: r.px scales them to device pixels.
// Grafana's time series panel is the model; every gap the renderer leaves
// is named here so a layout change is made in one place.
const (
	// Text sizes.
	bodyFontSize   = 12
	titleFontSize  = 14
	noDataFontSize = 18

	// The frame.
	edgePad        = 8  // empty margin around the panel's content
	edgeInset      = 2  // labels keep at least this far from the right edge
	titleBaseline  = 21 // the title's baseline, from the top
	titleRowHeight = 30 // the title row; the plot starts below it
	zoneLabelGap   = 16 // least space between the title and the time-zone label

	// The plot and its axes.
	plotTopGap      = 6  // between the title row and the plot
	xAxisHeight     = 26 // below the plot: the time labels
	xLabelOffset    = 14 // from the plot's bottom to the middle of a time label
	minPlotHeight   = 40 // the plot never gets shorter, whatever the legend needs
	minValueTickGap = 32 // least space between two value grid lines
	minTimeTickGap  = 80 // least space between two time grid lines
	valueLabelGap   = 8  // between the value labels and the plot

	// Threshold lines and their labels.
	thresholdDash       = 10 // the alert rule's thresholds: dash …
	thresholdGap        = 6  // … and gap
	panelThresholdDash  = 10 // a panel's dashed thresholds: dash and gap alike
	thresholdLabelInset = 6  // a threshold label starts this far into the plot
	thresholdLabelLift  = 5  // its baseline sits this far above (or below) the line
	labelBackingPad     = 3  // the panel-coloured box behind a label

	// Alert markers: the firing period's start and end.
	markerLabelTop     = 8  // the first row of marker labels, below the plot's top
	markerLabelBottom  = 8  // or its baseline above the plot's bottom, when lines crowd the top
	markerRowHeight    = 16 // between rows of marker labels
	markerLabelGap     = 6  // between a marker line and its label
	markerLabelSpacing = 8  // least space between two marker labels on one row
	markerDash         = 4
	markerGap          = 3
	markerTriangle     = 5 // half-width of the triangle on the time axis

	// Series.
	sparsePointGap = 20  // samples further apart than this also get a dot
	dotRadius      = 2.5 // the dot, unless the line is wider
	referenceWidth = 1   // moving thresholds (references)

	// Legend.
	legendRowH         = 20   // one legend row or list line
	legendPad          = 4    // below the legend; the table's inner margin
	legendShare        = 0.5  // the legend never takes more of the height
	rightLegendShare   = 0.45 // a right-hand legend never takes more of the width
	rightLegendGap     = 16   // between the plot and a right-hand legend
	rightLegendChrome  = 40   // swatch and gaps of a right-hand legend's rows
	legendSwatchWidth  = 14
	legendSwatchHalfH  = 2
	legendSwatchRadius = 1.5
	legendNameX        = 26 // a table row's name, from the legend's left edge
	legendNameGap      = 8  // between a name and the first value column
	legendColumnMin    = 64 // narrowest value column
	legendColumnGap    = 16 // between value columns
	legendItemLead     = 24 // swatch and gap before a list item's text
	legendItemTextX    = 20 // a list item's text, from its swatch
	legendItemGap      = 16 // after a list item
	legendNoteGap      = 8  // before the "… N more series" note of a list

	// The "no data" image.
	noDataReasonGap  = 24 // between "no data" and the reason under it
	noDataSideMargin = 16 // the reason is ellipsised this far from each side
	noDataSpanBottom = 12 // the time span's baseline, from the bottom
)
