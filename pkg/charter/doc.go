// Package charter makes an alert's chart: the plan (chartplan), then the
// image — through Grafana's image renderer from a clone of the template
// panel when chart.renderer asks for it and Grafana can, else (and as the
// fallback of every Grafana failure) by the native renderer from the
// plan's data — and what the records need to know about it
// (channels.ChartInfo). It implements delivery.Charter and
// delivery.OverviewCharter, and their per-language forms
// (delivery.LanguageCharter, LanguageOverviewCharter), without importing
// the delivery queue (the wiring, pkg/pipeline, checks that it does);
// POST /preview and the channel test use it directly.
//
// # Languages
//
// A chart's words are its channel's: the title ("HighCPU (最近10分钟)" /
// "HighCPU (last 10m)"), the image's own words (alert start, resolved, no
// data, "… N more series") and the no-data note. ChartIn makes an alert's
// chart in one language; an alert is planned and its data fetched once,
// and drawn at most once per language its channels use (a short-lived
// cache keyed by alert and language; concurrent callers share one
// drawing). Delivery asks ChartIn and OverviewIn with each channel's
// language; Chart and Overview, which name no channel, draw in the
// language all the alert's channels share, else in chart.language.
//
// # Failures
//
// An alert without a chart gets an error that is a *nochart.Error: the
// kind (nochart.Reason), which words the chat's short note in the
// channel's language, and the full reason — upstream errors, the query,
// hosts; secret values removed — for the delivery record and /preview.
// Reasons health reports for all alerts (no data source) and the rule's
// own chart_disable are Quiet: worth a record, not a message. A chart
// whose query returned no data is not sent either (ChartIn, OverviewIn):
// the chat gets a one-line note (nochart.NoData, or NoDataExpected for a
// rule that fires on absent data, such as absent()), since an empty image
// costs a message on some platforms and says nothing.
package charter
