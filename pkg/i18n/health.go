package i18n

// health holds the texts of the health report's message codes (pipeline
// and grafana checks, GET /health), merged into the catalogue under
// "health.<code>". They are shown on the config page and in Grafana's
// health answer, never in chat, so unlike the chat texts they may name
// settings and files as written (chart.templateDashboardUid, [rendering]
// server_url). The English text is also the check's "message";
// src/health-codes.json carries both languages to the config page.
var health = map[string]map[string]string{
	ZH: {
		"summary.ready":              "AlertChart 已就绪",
		"summary.problems":           "{problems}",
		"summary.restricted_warning": "AlertChart 可用，但有警告；管理员可在配置页面查看详情",
		"summary.restricted_error":   "AlertChart 有问题；管理员可在配置页面查看详情",

		"settings.valid":   "设置有效",
		"settings.invalid": "设置无效：{error}",

		"channels.none":   "尚未配置聊天渠道：告警会被接收，但不会发往任何地方",
		"channels.ok":     "已配置 {count} 个渠道",
		"channel.invalid": "无法使用：{error}",

		"prometheus.ok":             "规则 API 可访问",
		"prometheus.not_configured": "图表已关闭：未配置数据源（请设置 prometheus.url 或 prometheus.datasourceUid）",
		"prometheus.invalid":        "图表已关闭：{error}",
		"prometheus.unreachable":    "图表可能缺失：{error}",

		"imagestore.ok":          "存储桶可访问",
		"imagestore.invalid":     "{error}（钉钉、Teams 和 Slack webhook 只收到文字）",
		"imagestore.unreachable": "{error}（只接受图片链接的平台将收到说明文字而非图表）",

		"grafana.unavailable":                "已选择 Grafana 渲染，但{problem}；改用内置渲染",
		"grafana.api_ok":                     "可通过{source}访问 {url}",
		"grafana.api_failed":                 "{error}",
		"grafana.template_skipped_no_api":    "未检查：Grafana API 不可用",
		"grafana.renderer_skipped_no_api":    "未检查：Grafana API 不可用",
		"grafana.alert_rules_skipped_no_api": "未检查：Grafana API 不可用",
		"grafana.template_not_configured":    "未配置模板（chart.templateDashboardUid 和 chart.templatePanelId）",
		"grafana.template_ok":                "仪表板“{dashboard}”的面板 {panel}“{title}”（{type}），按 {schema} 读取",
		"grafana.template_failed":            "{error}",
		"grafana.renderer_native":            "未使用：chart.renderer 为 native（内置渲染）",
		"grafana.renderer_failed":            "{error}",
		"grafana.renderer_missing":           "Grafana 没有图片渲染器：请安装 grafana-image-renderer 服务并设置 [rendering] server_url 和 callback_url；在此之前图表由内置渲染器绘制",
		"grafana.renderer_untested":          "Grafana 报告渲染器版本 {version}；未配置可用的模板面板，因此没有试渲染",
		"grafana.renderer_ok":                "渲染器 {version} 用 {duration} 渲染了模板面板",
		"grafana.alert_rules":                "插件可以读取 Grafana 管理的告警规则：这些告警会附带图表",
		"grafana.alert_rules_forbidden":      "Grafana 不允许插件的服务账号在告警规则所在文件夹上使用 {permission} 权限（以及 {also}）：来自 Grafana Alerting 的告警只发送文字，没有图表。请授予该权限（托管服务账号：plugin.json 的 iam；已保存的令牌：在规则文件夹上至少为 Viewer 角色）。Grafana 的回答：{error}",
		"grafana.alert_rules_unreadable":     "无法读取告警规则：{error}；来自 Grafana Alerting 的告警没有图表",

		"queue.ok":              "投递队列已打开（{queue}）",
		"queue.temporary":       "投递队列位于临时目录（{dir}），重启后可能丢失：请设置 delivery.dataDir，或在 grafana.ini 的 [plugin.alertchart-webhook-app] 段中设置 data_dir",
		"queue.warning":         "{warning}",
		"queue.failed":          "投递队列无法打开：{error}",
		"queue.data_dir_unsafe": "数据目录 {dir} 不适合存放投递队列：{problem}",
		"queue.backlog":         "投递队列已打开（{queue}）：{backlog} 条告警文字等待发送，最早的已等待 {oldest}",
		"queue.unreachable":     "无法连接投递队列的数据库（{queue}）：{error}。AlertChart 每隔几秒重试一次；在此之前 webhook 返回 503，Alertmanager 会保留告警并重发",

		"webhook.users":            "通过 Grafana 登录名识别 Alertmanager（{users}）",
		"webhook.token":            "通过 webhook 令牌识别 Alertmanager（X-AlertChart-Token 请求头或 URL 中的 token=）",
		"webhook.users_and_token":  "通过 Grafana 登录名（{users}）和 webhook 令牌识别 Alertmanager",
		"webhook.unconfigured":     "未配置 Alertmanager 身份：在 webhook.allowedUsers 列出 Alertmanager 的服务账号或设置 secureJsonData.webhookToken 之前，POST /webhook 返回 503",
		"webhook.refused":          "自 {since} 起拒绝了来自 {caller} 的 {count} 个 webhook 请求：{reason}",
		"webhook.standalone_token": "每个 API 请求都需要 bearer 令牌（secureJsonData.webhookToken）",
		"webhook.standalone_open":  "未设置 secureJsonData.webhookToken：任何能访问 {listen} 的人都可以发送告警、读取投递记录和发送测试通知",
	},
	EN: {
		"summary.ready":              "AlertChart is ready",
		"summary.problems":           "{problems}",
		"summary.restricted_warning": "AlertChart works with warnings; an administrator can see the details on the configuration page",
		"summary.restricted_error":   "AlertChart has a problem; an administrator can see the details on the configuration page",

		"settings.valid":   "settings are valid",
		"settings.invalid": "{error}",

		"channels.none":   "no chat channel is configured: alerts are accepted but go nowhere",
		"channels.ok":     "{count} channel(s) configured",
		"channel.invalid": "{error}",

		"prometheus.ok":             "rules API reachable",
		"prometheus.not_configured": "charts are off: no data source is configured (set prometheus.url or prometheus.datasourceUid)",
		"prometheus.invalid":        "charts are off: {error}",
		"prometheus.unreachable":    "charts may be missing: {error}",

		"imagestore.ok":          "bucket reachable",
		"imagestore.invalid":     "{error} (DingTalk, Teams and Slack webhooks get text only)",
		"imagestore.unreachable": "{error} (charts for URL-only platforms become a note)",

		"grafana.unavailable":                "the grafana renderer is selected but {problem}; the native renderer is used",
		"grafana.api_ok":                     "reachable at {url} with the {source}",
		"grafana.api_failed":                 "{error}",
		"grafana.template_skipped_no_api":    "Grafana's API is not usable",
		"grafana.renderer_skipped_no_api":    "Grafana's API is not usable",
		"grafana.alert_rules_skipped_no_api": "Grafana's API is not usable",
		"grafana.template_not_configured":    "no template configured (chart.templateDashboardUid and chart.templatePanelId)",
		"grafana.template_ok":                "panel {panel} \"{title}\" ({type}) of dashboard \"{dashboard}\", read as {schema}",
		"grafana.template_failed":            "{error}",
		"grafana.renderer_native":            "chart.renderer is native",
		"grafana.renderer_failed":            "{error}",
		"grafana.renderer_missing":           "Grafana has no image renderer: install the grafana-image-renderer service and set [rendering] server_url and callback_url; until then charts are drawn by the native renderer",
		"grafana.renderer_untested":          "Grafana reports renderer {version}; not test-rendered because no usable template panel is configured",
		"grafana.renderer_ok":                "renderer {version} rendered the template panel in {duration}",
		"grafana.alert_rules":                "the plugin may read Grafana-managed alert rules: their alerts get charts",
		"grafana.alert_rules_forbidden":      "Grafana refuses the plugin's service account the permission {permission} (with {also}) on alert rule folders: alerts from Grafana Alerting arrive as text without a chart. Grant it (plugin.json \"iam\" with the managed service account; a stored token needs role Viewer or better on the rules' folders). Grafana said: {error}",
		"grafana.alert_rules_unreadable":     "alert rules could not be read: {error}; alerts from Grafana Alerting arrive without a chart",

		"queue.ok":              "delivery queue open ({queue})",
		"queue.temporary":       "the delivery queue lives in a temporary directory ({dir}) and may be lost on reboot; set delivery.dataDir, or data_dir in the [plugin.alertchart-webhook-app] section of grafana.ini",
		"queue.warning":         "{warning}",
		"queue.failed":          "{error}",
		"queue.data_dir_unsafe": "the data directory {dir} is not safe for the delivery queue: {problem}",
		"queue.backlog":         "delivery queue open ({queue}): {backlog} alert texts waiting, the oldest for {oldest}",
		"queue.unreachable":     "the delivery queue's database ({queue}) cannot be reached: {error}. AlertChart tries again every few seconds; until then webhooks answer 503 and Alertmanager keeps the alerts and retries",

		"webhook.users":            "Alertmanager is recognised by its Grafana login ({users})",
		"webhook.token":            "Alertmanager is recognised by the webhook token (X-AlertChart-Token header or token= in the URL)",
		"webhook.users_and_token":  "Alertmanager is recognised by its Grafana login ({users}) and the webhook token",
		"webhook.unconfigured":     "no Alertmanager identity is configured: POST /webhook answers 503 until webhook.allowedUsers names Alertmanager's service account or secureJsonData.webhookToken is set",
		"webhook.refused":          "refused {count} webhook request(s) from {caller} since {since}: {reason}",
		"webhook.standalone_token": "every API request needs the bearer token (secureJsonData.webhookToken)",
		"webhook.standalone_open":  "no secureJsonData.webhookToken: anyone who can reach {listen} can post alerts, read delivery records and send channel tests",
	},
}

// HealthPrefix is the catalogue prefix of the health report's codes: the
// text of code "settings.valid" is T(lang, HealthPrefix+"settings.valid").
const HealthPrefix = "health."

func init() {
	for lang, texts := range health {
		for code, text := range texts {
			catalogue[lang][HealthPrefix+code] = text
		}
	}
}
