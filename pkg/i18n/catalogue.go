package i18n

// catalogue holds every message by language. Ids are dotted and grouped by
// where the words appear; add a new id to both languages with the same
// {placeholders} (TestEveryIDInBothLanguages checks it). The texts are
// shown inside chat markup (Markdown, Slack mrkdwn, Telegram HTML, …) as
// written, so they must not contain markup characters (* _ ~ ` [ ] < > & #
// | \); arguments are escaped by whoever fills them.
var catalogue = map[string]map[string]string{
	ZH: {
		// Alert status in headlines and lists.
		"status.firing":   "告警中",
		"status.resolved": "已恢复",
		"headline.alerts": "{count} 条告警",

		// The message body (pkg/channels default template).
		"alert.instance":         "实例：{value}",
		"alert.summary":          "摘要：{value}",
		"alert.description":      "描述：{value}",
		"alert.value":            "当前值：{value}",
		"alert.started.firing":   "开始：{start}（已持续 {duration}）",
		"alert.started.resolved": "开始：{start}（持续 {duration}，恢复于 {end}）",
		"alert.compact.summary":  "：{value}",
		"alert.compact.duration": "（{duration}）",
		"alerts.more":            "… 另有 {count} 条告警",
		"digest.summary":         "告警风暴摘要：合并 {total} 条告警（告警中 {firing}，已恢复 {resolved}）",
		"stats.line":             "{name}：当前 {last}，最大 {max}，最小 {min}",
		"stats.more":             "… 另有 {count} 条曲线",
		"link.grafana":           "📈 在 Grafana 中查看",
		"link.silence.one":       "🔕 静默此告警",
		"link.silence.group":     "🔕 静默这组告警",
		"link.chart":             "📈 查看图表",
		"chart.alt":              "图表",

		// Why a message has no chart.
		"chart.unavailable":            "图表不可用：{reason}",
		"chart.reason.no_store":        "未配置图片存储",
		"chart.reason.no_store_or_app": "未配置图片存储或飞书应用",
		"chart.reason.empty":           "图片为空",
		"chart.reason.upload_failed":   "图片上传失败",
		"chart.reason.too_big":         "图片过大",
		"chart.reason.rejected":        "图片被平台拒绝",
		"chart.reason.digest_caption":  "摘要过长，无法与图片合并发送",
		"chart.window":                 "最近{span}",

		// The config page's test message.
		"sample.summary":     "web-01 CPU 使用率超过 90%",
		"sample.description": "CPU 使用率已持续 5 分钟高于 90%，请检查占用最高的进程。",
		"sample.chart_title": "CPU 使用率（{window}）",
	},
	EN: {
		"status.firing":   "FIRING",
		"status.resolved": "RESOLVED",
		"headline.alerts": "{count} alerts",

		"alert.instance":         "Instance: {value}",
		"alert.summary":          "Summary: {value}",
		"alert.description":      "Description: {value}",
		"alert.value":            "Value: {value}",
		"alert.started.firing":   "Started: {start} (for {duration})",
		"alert.started.resolved": "Started: {start} (lasted {duration}, resolved {end})",
		"alert.compact.summary":  ": {value}",
		"alert.compact.duration": " ({duration})",
		"alerts.more":            "… and {count} more alerts",
		"digest.summary":         "Alert storm digest: {total} alerts merged ({firing} firing, {resolved} resolved)",
		"stats.line":             "{name}: last {last}, max {max}, min {min}",
		"stats.more":             "… and {count} more series",
		"link.grafana":           "📈 Open in Grafana",
		"link.silence.one":       "🔕 Silence",
		"link.silence.group":     "🔕 Silence group",
		"link.chart":             "📈 chart",
		"chart.alt":              "chart",

		"chart.unavailable":            "chart unavailable: {reason}",
		"chart.reason.no_store":        "no image store configured",
		"chart.reason.no_store_or_app": "no image store or Feishu app configured",
		"chart.reason.empty":           "empty image",
		"chart.reason.upload_failed":   "image upload failed",
		"chart.reason.too_big":         "image too big",
		"chart.reason.rejected":        "image rejected",
		"chart.reason.digest_caption":  "digest too long for a photo caption",
		"chart.window":                 "last {span}",

		"sample.summary":     "CPU usage on web-01 is above 90%",
		"sample.description": "CPU usage has been above 90% for 5 minutes. Check the top processes.",
		"sample.chart_title": "CPU usage ({window})",
	},
}
