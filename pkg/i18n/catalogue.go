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

		// Why an alert has no chart (pkg/nochart): the short reason a
		// channel's note gives after "chart.unavailable"; never a URL or a
		// query (the full reason is in the delivery record).
		"chart.reason.disabled":                "告警规则关闭了图表",
		"chart.reason.no_data_source":          "未配置数据源",
		"chart.reason.no_query":                "没有可绘制的查询",
		"chart.reason.grafana_no_access":       "无法访问 Grafana 的告警规则",
		"chart.reason.grafana_forbidden":       "Grafana 不允许插件读取告警规则",
		"chart.reason.grafana_rule_missing":    "Grafana 中已没有该告警规则",
		"chart.reason.grafana_rule_failed":     "读取 Grafana 告警规则失败",
		"chart.reason.datasource_missing":      "告警规则的数据源已不存在",
		"chart.reason.query_failed":            "Prometheus 查询失败",
		"chart.reason.query_timeout":           "Prometheus 查询超时",
		"chart.reason.datasource_query_failed": "Grafana 数据源查询失败",
		"chart.reason.render_failed":           "图表绘制失败",
		"chart.reason.timeout":                 "图表生成超时",
		"chart.reason.internal":                "内部错误",
		"chart.reason.send_failed":             "图片发送失败",
		"chart.reason.gave_up":                 "超过重试期限",
		"chart.reason.channel_unconfigured":    "渠道未配置",
		"chart.skipped.rate_limited":           "图表已跳过：渠道限流，告警文字优先",

		// Chart titles and the words drawn on chart images.
		"chart.title":          "{name} ({window})",
		"chart.title.overview": "{name} — {alerts} ({window})",
		"chart.alerts.one":     "1 条告警",
		"chart.alerts.other":   "{count} 条告警",
		"chart.nodata.empty":   "查询在该时间范围内没有数据",
		"chart.nodata.absent":  "该告警在 {series} 无数据时触发，图表为空属正常。",
		"chart.nodata.grafana": "Grafana 报告该规则的查询无数据，图表为空属正常。",
		"render.no_data":       "无数据",
		"render.alert_start":   "告警开始",
		"render.resolved":      "告警恢复",
		"render.more_series":   "… 还有 {count} 个序列",

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

		"chart.reason.disabled":                "the rule turns its chart off",
		"chart.reason.no_data_source":          "no data source is configured",
		"chart.reason.no_query":                "no query to chart",
		"chart.reason.grafana_no_access":       "no access to Grafana's alert rules",
		"chart.reason.grafana_forbidden":       "Grafana does not let the plugin read the alert rule",
		"chart.reason.grafana_rule_missing":    "the alert rule no longer exists in Grafana",
		"chart.reason.grafana_rule_failed":     "reading the alert rule from Grafana failed",
		"chart.reason.datasource_missing":      "the rule's data source no longer exists",
		"chart.reason.query_failed":            "the Prometheus query failed",
		"chart.reason.query_timeout":           "the Prometheus query timed out",
		"chart.reason.datasource_query_failed": "the Grafana data source query failed",
		"chart.reason.render_failed":           "the chart could not be drawn",
		"chart.reason.timeout":                 "the chart took too long",
		"chart.reason.internal":                "internal error",
		"chart.reason.send_failed":             "sending the image failed",
		"chart.reason.gave_up":                 "gave up after the retry horizon",
		"chart.reason.channel_unconfigured":    "the channel is not configured",
		"chart.skipped.rate_limited":           "chart skipped: the channel is rate limited and alert text goes first",

		"chart.title":          "{name} ({window})",
		"chart.title.overview": "{name} — {alerts} ({window})",
		"chart.alerts.one":     "1 alert",
		"chart.alerts.other":   "{count} alerts",
		"chart.nodata.empty":   "the query returned no data for this alert",
		"chart.nodata.absent":  "This alert fires when {series} has no data; an empty chart is expected.",
		"chart.nodata.grafana": "Grafana reported no data for this rule's queries; an empty chart is expected.",
		"render.no_data":       "No data",
		"render.alert_start":   "alert start",
		"render.resolved":      "resolved",
		"render.more_series":   "… {count} more series",

		"sample.summary":     "CPU usage on web-01 is above 90%",
		"sample.description": "CPU usage has been above 90% for 5 minutes. Check the top processes.",
		"sample.chart_title": "CPU usage ({window})",
	},
}
