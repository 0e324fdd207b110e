package chartplan

import (
	"testing"

	"github.com/alertchart/alertchart/pkg/series"
)

// The tables below are real-world rule shapes per class of issue 14, with
// the identifying labels of one alert each and what the chart must be.
// TestRewriteClasses checks them like TestRewriteTable; FuzzRewrite seeds
// from them too.

// aggregationCases: comparisons inside aggregations (issue 14 point 1).
// Sloth (the exact multi-window shape it generates: max(… > t) without
// (sloth_window), tiers joined by or), Pyrra (burnrate recording rules,
// windows joined by and), kube-prometheus' apiserver burn rate, and the
// monotone (max/min/topk) and non-monotone (sum/count/avg) kinds.
var aggregationCases = []rewriteCase{
	{
		name:       "sloth_page_tiers",
		expr:       "(max(slo:sli_error:ratio_rate5m{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (14.4 * 0.0009999999999999432)) without (sloth_window) and max(slo:sli_error:ratio_rate1h{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (14.4 * 0.0009999999999999432)) without (sloth_window)) or (max(slo:sli_error:ratio_rate30m{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (6 * 0.0009999999999999432)) without (sloth_window) and max(slo:sli_error:ratio_rate6h{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (6 * 0.0009999999999999432)) without (sloth_window))",
		ids:        L{"sloth_id": "myservice-requests-availability", "sloth_service": "myservice", "sloth_slo": "requests-availability"},
		query:      "max without (sloth_window) (slo:sli_error:ratio_rate5m{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}) or max without (sloth_window) (slo:sli_error:ratio_rate1h{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}) or max without (sloth_window) (slo:sli_error:ratio_rate30m{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}) or max without (sloth_window) (slo:sli_error:ratio_rate6h{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"})",
		injected:   L{"sloth_id": "myservice-requests-availability", "sloth_service": "myservice", "sloth_slo": "requests-availability"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.014399999999999183, Series: "5m, 1h"}, {Op: ">", Value: 0.005999999999999659, Series: "30m, 6h"}},
		conditions: 0,
		parts:      []string{"5m", "1h", "30m", "6h"},
	},
	{
		name:       "sloth_ticket_tiers",
		expr:       "(max(slo:sli_error:ratio_rate2h{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (3 * 0.0009999999999999432)) without (sloth_window) and max(slo:sli_error:ratio_rate1d{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (3 * 0.0009999999999999432)) without (sloth_window)) or (max(slo:sli_error:ratio_rate6h{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (1 * 0.0009999999999999432)) without (sloth_window) and max(slo:sli_error:ratio_rate3d{sloth_id=\"myservice-requests-availability\", sloth_service=\"myservice\", sloth_slo=\"requests-availability\"} > (1 * 0.0009999999999999432)) without (sloth_window))",
		ids:        L{"sloth_id": "myservice-requests-availability", "sloth_service": "myservice", "sloth_slo": "requests-availability"},
		query:      "max without (sloth_window) (slo:sli_error:ratio_rate2h{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}) or max without (sloth_window) (slo:sli_error:ratio_rate1d{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}) or max without (sloth_window) (slo:sli_error:ratio_rate6h{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}) or max without (sloth_window) (slo:sli_error:ratio_rate3d{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"})",
		injected:   L{"sloth_id": "myservice-requests-availability", "sloth_service": "myservice", "sloth_slo": "requests-availability"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.0029999999999998296, Series: "2h, 1d"}, {Op: ">", Value: 0.0009999999999999432, Series: "6h, 3d"}},
		conditions: 0,
		parts:      []string{"2h", "1d", "6h", "3d"},
	},
	{
		name:       "pyrra_fast_burn",
		expr:       "http_requests:burnrate3m{job=\"thanos-query\",slo=\"thanos-query-errors\"} > (14 * (1-0.99)) and http_requests:burnrate30m{job=\"thanos-query\",slo=\"thanos-query-errors\"} > (14 * (1-0.99))",
		ids:        L{"job": "thanos-query", "slo": "thanos-query-errors"},
		query:      "http_requests:burnrate3m{job=\"thanos-query\",slo=\"thanos-query-errors\"} or http_requests:burnrate30m{job=\"thanos-query\",slo=\"thanos-query-errors\"}",
		injected:   L{"job": "thanos-query", "slo": "thanos-query-errors"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.14000000000000012}},
		conditions: 0,
		parts:      []string{"3m", "30m"},
	},
	{
		name:       "pyrra_slow_burn",
		expr:       "http_requests:burnrate1h{job=\"api\",slo=\"api-errors\"} > (3 * (1-0.99)) and http_requests:burnrate6h{job=\"api\",slo=\"api-errors\"} > (3 * (1-0.99))",
		ids:        L{"job": "api", "slo": "api-errors"},
		query:      "http_requests:burnrate1h{job=\"api\",slo=\"api-errors\"} or http_requests:burnrate6h{job=\"api\",slo=\"api-errors\"}",
		injected:   L{"job": "api", "slo": "api-errors"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.030000000000000027}},
		conditions: 0,
		parts:      []string{"1h", "6h"},
	},
	{
		name:       "kube_apiserver_burnrate",
		expr:       "sum by (cluster) (apiserver_request:burnrate1h) > (14.40 * 0.01000) and on (cluster) sum by (cluster) (apiserver_request:burnrate5m) > (14.40 * 0.01000)",
		ids:        L{"cluster": "c1"},
		query:      "sum by (cluster) (apiserver_request:burnrate1h{cluster=\"c1\"}) or sum by (cluster) (apiserver_request:burnrate5m{cluster=\"c1\"})",
		injected:   L{"cluster": "c1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.14400000000000002}},
		conditions: 0,
		parts:      []string{"1h", "5m"},
	},
	{
		name:       "min_fs_free",
		expr:       "min by (instance) (node_filesystem_avail_bytes{fstype!=\"tmpfs\"} / node_filesystem_size_bytes{fstype!=\"tmpfs\"} < 0.1)",
		ids:        L{"instance": "n1:9100", "job": "node"},
		query:      "min by (instance) (node_filesystem_avail_bytes{fstype!=\"tmpfs\",instance=\"n1:9100\"} / node_filesystem_size_bytes{fstype!=\"tmpfs\",instance=\"n1:9100\"})",
		injected:   L{"instance": "n1:9100"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 0.1}},
		conditions: 0,
	},
	{
		name:       "topk_pod_cpu",
		expr:       "topk(5, sum by (pod) (rate(container_cpu_usage_seconds_total[5m])) > 2)",
		ids:        L{"pod": "api-1"},
		query:      "topk(5, sum by (pod) (rate(container_cpu_usage_seconds_total[5m])))",
		injected:   nil,
		post:       L{"pod": "api-1"},
		thresholds: []series.Threshold{{Op: ">", Value: 2}},
		conditions: 0,
	},
	{
		name:       "max_pod_restarts",
		expr:       "max by (namespace, pod) (kube_pod_container_status_restarts_total >= 3)",
		ids:        L{"namespace": "prod", "pod": "api-1"},
		query:      "max by (namespace, pod) (kube_pod_container_status_restarts_total{namespace=\"prod\",pod=\"api-1\"})",
		injected:   L{"namespace": "prod", "pod": "api-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">=", Value: 3}},
		conditions: 0,
	},
	{
		name:       "count_targets_down",
		expr:       "count by (job) (up == 0) > 1",
		ids:        L{"job": "node"},
		query:      "count by (job) (up{job=\"node\"} == 0)",
		injected:   L{"job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 1}},
		conditions: 0,
		kept:       1,
	},
	{
		name:       "avg_cpu_idle_filtered",
		expr:       "avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]) < 0.1)",
		ids:        L{"instance": "n1:9100"},
		query:      "avg by (instance) (rate(node_cpu_seconds_total{instance=\"n1:9100\",mode=\"idle\"}[5m]) < 0.1)",
		injected:   L{"instance": "n1:9100"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 0,
		kept:       1,
	},
	{
		name:       "sum_restarts_filtered",
		expr:       "sum by (namespace) (kube_pod_container_status_restarts_total > 5)",
		ids:        L{"namespace": "prod"},
		query:      "sum by (namespace) (kube_pod_container_status_restarts_total{namespace=\"prod\"} > 5)",
		injected:   L{"namespace": "prod"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 0,
		kept:       1,
	},
	{
		name:       "max_below_filtered",
		expr:       "max by (instance) (node_hwmon_temp_celsius < 10)",
		ids:        L{"instance": "n1:9100"},
		query:      "max by (instance) (node_hwmon_temp_celsius{instance=\"n1:9100\"} < 10)",
		injected:   L{"instance": "n1:9100"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 0,
		kept:       1,
	},
}

// movingThresholdCases: thresholds from scalars, on() group_left and bool
// comparisons are drawn as reference lines (issue 14 point 2).
var movingThresholdCases = []rewriteCase{
	{
		name:       "quantile_on_group_left",
		expr:       "node_load1 > on() group_left quantile(0.9, node_load1)",
		ids:        L{"instance": "n1:9100", "job": "node"},
		query:      "node_load1{instance=\"n1:9100\",job=\"node\"}",
		injected:   L{"instance": "n1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"quantile(0.9, node_load1)"},
	},
	{
		name:       "bool_scalar_avg",
		expr:       "(rate(http_requests_total[5m]) > bool scalar(avg(rate(http_requests_total[5m]))) * 3) == 1",
		ids:        L{"instance": "w1", "job": "web"},
		query:      "rate(http_requests_total{instance=\"w1\",job=\"web\"}[5m])",
		injected:   L{"instance": "w1", "job": "web"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 2,
		refs:       []string{"vector(scalar(avg(rate(http_requests_total[5m]))) * 3)"},
	},
	{
		name:       "scalar_on_the_left",
		expr:       "scalar(sum(rate(http_requests_total[5m]))) * 0.2 < sum by (instance) (rate(http_requests_total[5m]))",
		ids:        L{"instance": "w1"},
		query:      "sum by (instance) (rate(http_requests_total{instance=\"w1\"}[5m]))",
		injected:   L{"instance": "w1"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"vector(scalar(sum(rate(http_requests_total[5m]))) * 0.2)"},
	},
	{
		name:       "bool_vector_on",
		expr:       "node_memory_MemAvailable_bytes < bool on(instance) node_memory_MemTotal_bytes * 0.1",
		ids:        L{"instance": "n1:9100", "job": "node"},
		query:      "node_memory_MemAvailable_bytes{instance=\"n1:9100\",job=\"node\"}",
		injected:   L{"instance": "n1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"node_memory_MemTotal_bytes{instance=\"n1:9100\"} * 0.1"},
	},
	{
		name:       "scalar_times_avg",
		expr:       "sum by (instance) (rate(http_requests_total[5m])) > 2 * scalar(avg(sum by (instance) (rate(http_requests_total[5m]))))",
		ids:        L{"instance": "w1"},
		query:      "sum by (instance) (rate(http_requests_total{instance=\"w1\"}[5m]))",
		injected:   L{"instance": "w1"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"vector(2 * scalar(avg(sum by (instance) (rate(http_requests_total[5m])))))"},
	},
}

// fallbackCases: constant fallbacks cannot be a labelled alert's series
// (issue 14 point 3); operands of or that can are charted as parts.
var fallbackCases = []rewriteCase{
	{
		name:       "or_on_vector0",
		expr:       "(sum by (instance) (increase(backup_failures_total[1h])) or on() vector(0)) > 0",
		ids:        L{"instance": "db1"},
		query:      "sum by (instance) (increase(backup_failures_total{instance=\"db1\"}[1h]))",
		injected:   L{"instance": "db1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
		dropped:    1,
	},
	{
		name:       "or_operands_own_thresholds",
		expr:       "sum by (service) (rate(http_errors_total[5m])) / (sum by (service) (rate(http_requests_total[5m])) > 0) > 0.05 or sum by (service) (rate(http_errors_total[5m])) * 0 > 1",
		ids:        L{"service": "api"},
		query:      "sum by (service) (rate(http_errors_total{service=\"api\"}[5m])) / (sum by (service) (rate(http_requests_total{service=\"api\"}[5m])) > 0) or sum by (service) (rate(http_errors_total{service=\"api\"}[5m])) * 0",
		injected:   L{"service": "api"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.05, Series: "http_errors_total http_requests_total"}, {Op: ">", Value: 1, Series: "http_errors_total"}},
		conditions: 0,
		parts:      []string{"http_errors_total http_requests_total", "http_errors_total"},
	},
	{
		name:       "count_or_vector0",
		expr:       "(count by (job) (up{job=\"batch\"} == 1) or vector(0)) < 1",
		ids:        L{"job": "batch"},
		query:      "count by (job) (up{job=\"batch\"} == 1)",
		injected:   L{"job": "batch"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 1}},
		conditions: 0,
		kept:       1,
		dropped:    1,
	},
	{
		name:       "absent_or_vector0",
		expr:       "absent(up{job=\"api\"}) or vector(0) > 1",
		ids:        L{"job": "api"},
		query:      "up{job=\"api\"}",
		injected:   L{"job": "api"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 0,
		dropped:    1,
	},
}

func TestRewriteClasses(t *testing.T) {
	t.Parallel()
	for _, class := range []struct {
		name  string
		cases []rewriteCase
	}{{"aggregation", aggregationCases}, {"moving", movingThresholdCases}, {"fallback", fallbackCases}} {
		if len(class.cases) < 4 {
			t.Errorf("class %s has %d expressions, want several", class.name, len(class.cases))
		}
		for _, tc := range class.cases {
			t.Run(class.name+"/"+tc.name, func(t *testing.T) { checkRewrite(t, tc) })
		}
	}
}
