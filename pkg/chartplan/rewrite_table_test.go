package chartplan

import (
	"math"
	"reflect"
	"testing"

	"github.com/alertchart/alertchart/pkg/series"
)

// L is a label set in the table below.
type L = map[string]string

// rewriteCase is one real-world alerting expression (from node-exporter,
// kube-state-metrics/kubernetes-mixin, kubelet, blackbox, mysqld, redis,
// nginx mixins, sloth/pyrra SLO rules and common hand-written rules) with
// the identifying labels of one of its alerts, and what the chart must be.
type rewriteCase struct {
	name       string
	expr       string
	ids        L
	query      string
	injected   L
	post       L
	thresholds []series.Threshold
	conditions int
	// refs are the expected reference queries (moving thresholds).
	refs []string
	// parts are the names of the separately fetched parts (none for one).
	parts []string
	// kept and dropped count KeptFilters and Dropped operands.
	kept, dropped int
}

var rewriteCases = []rewriteCase{
	{
		name:       "node_cpu",
		expr:       "100 - (avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100) > 80",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "100 - (avg by (instance) (rate(node_cpu_seconds_total{instance=\"node1:9100\",mode=\"idle\"}[5m])) * 100)",
		injected:   L{"instance": "node1:9100"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 80}},
		conditions: 0,
	},
	{
		name:       "node_mem",
		expr:       "(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100 < 10",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "(node_memory_MemAvailable_bytes{instance=\"node1:9100\",job=\"node\"} / node_memory_MemTotal_bytes{instance=\"node1:9100\",job=\"node\"}) * 100",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 10}},
		conditions: 0,
	},
	{
		name:       "node_fs",
		expr:       "(node_filesystem_avail_bytes{fstype!=\"tmpfs\"} / node_filesystem_size_bytes{fstype!=\"tmpfs\"} * 100 < 10 and on (instance, device, mountpoint) node_filesystem_readonly == 0)",
		ids:        L{"device": "/dev/sda1", "fstype": "ext4", "instance": "node1:9100", "job": "node", "mountpoint": "/"},
		query:      "node_filesystem_avail_bytes{device=\"/dev/sda1\",fstype!=\"tmpfs\",fstype=\"ext4\",instance=\"node1:9100\",job=\"node\",mountpoint=\"/\"} / node_filesystem_size_bytes{device=\"/dev/sda1\",fstype!=\"tmpfs\",fstype=\"ext4\",instance=\"node1:9100\",job=\"node\",mountpoint=\"/\"} * 100",
		injected:   L{"device": "/dev/sda1", "fstype": "ext4", "instance": "node1:9100", "job": "node", "mountpoint": "/"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 10}},
		conditions: 1,
	},
	{
		name:       "node_fs_predict",
		expr:       "predict_linear(node_filesystem_avail_bytes{fstype!~\"tmpfs|overlay\"}[6h], 4 * 3600) < 0",
		ids:        L{"device": "/dev/sda1", "instance": "node1:9100", "job": "node", "mountpoint": "/"},
		query:      "predict_linear(node_filesystem_avail_bytes{device=\"/dev/sda1\",fstype!~\"tmpfs|overlay\",instance=\"node1:9100\",job=\"node\",mountpoint=\"/\"}[6h], 4 * 3600)",
		injected:   L{"device": "/dev/sda1", "instance": "node1:9100", "job": "node", "mountpoint": "/"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 0}},
		conditions: 0,
	},
	{
		name:       "node_load",
		expr:       "node_load1 / on(instance) count by (instance) (node_cpu_seconds_total{mode=\"idle\"}) > 2",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_load1{instance=\"node1:9100\"} / on (instance) count by (instance) (node_cpu_seconds_total{instance=\"node1:9100\",mode=\"idle\"})",
		injected:   L{"instance": "node1:9100"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 2}},
		conditions: 0,
	},
	{
		name:       "node_disk_io",
		expr:       "rate(node_disk_io_time_seconds_total[5m]) > 0.9",
		ids:        L{"device": "sda", "instance": "node1:9100", "job": "node"},
		query:      "rate(node_disk_io_time_seconds_total{device=\"sda\",instance=\"node1:9100\",job=\"node\"}[5m])",
		injected:   L{"device": "sda", "instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.9}},
		conditions: 0,
	},
	{
		name:       "node_net_errs",
		expr:       "rate(node_network_receive_errs_total[2m]) / rate(node_network_receive_packets_total[2m]) > 0.01",
		ids:        L{"device": "eth0", "instance": "node1:9100", "job": "node"},
		query:      "rate(node_network_receive_errs_total{device=\"eth0\",instance=\"node1:9100\",job=\"node\"}[2m]) / rate(node_network_receive_packets_total{device=\"eth0\",instance=\"node1:9100\",job=\"node\"}[2m])",
		injected:   L{"device": "eth0", "instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.01}},
		conditions: 0,
	},
	{
		name:       "node_clock",
		expr:       "(node_timex_offset_seconds > 0.05 and deriv(node_timex_offset_seconds[5m]) >= 0) or (node_timex_offset_seconds < -0.05 and deriv(node_timex_offset_seconds[5m]) <= 0)",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_timex_offset_seconds{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.05}, {Op: "<", Value: -0.05}},
		conditions: 2,
	},
	{
		name:       "node_conntrack",
		expr:       "node_nf_conntrack_entries / node_nf_conntrack_entries_limit > 0.75",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_nf_conntrack_entries{instance=\"node1:9100\",job=\"node\"} / node_nf_conntrack_entries_limit{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.75}},
		conditions: 0,
	},
	{
		name:       "node_oom",
		expr:       "increase(node_vmstat_oom_kill[1m]) > 0",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "increase(node_vmstat_oom_kill{instance=\"node1:9100\",job=\"node\"}[1m])",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "node_uname_join",
		expr:       "(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * on(instance) group_left(nodename) node_uname_info < 0.1",
		ids:        L{"instance": "node1:9100", "job": "node", "nodename": "host1"},
		query:      "(node_memory_MemAvailable_bytes{instance=\"node1:9100\",job=\"node\"} / node_memory_MemTotal_bytes{instance=\"node1:9100\",job=\"node\"}) * on (instance) group_left (nodename) node_uname_info{instance=\"node1:9100\",nodename=\"host1\"}",
		injected:   L{"instance": "node1:9100", "job": "node", "nodename": "host1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 0.1}},
		conditions: 0,
	},
	{
		name:       "up_down",
		expr:       "up == 0",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "up{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 0,
	},
	{
		name:       "up_job",
		expr:       "absent(up{job=\"node\"})",
		ids:        L{"job": "node"},
		query:      "up{job=\"node\"}",
		injected:   L{"job": "node"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 0,
	},
	{
		name:       "absent_over",
		expr:       "absent_over_time(batch_last_success_timestamp_seconds{job=\"batch\"}[1h])",
		ids:        L{"job": "batch"},
		query:      "batch_last_success_timestamp_seconds{job=\"batch\"}",
		injected:   L{"job": "batch"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 0,
	},
	{
		name:       "up_or_absent",
		expr:       "up{job=\"node\"} == 0 or absent(up{job=\"node\"})",
		ids:        L{"instance": "a:1", "job": "node"},
		query:      "up{instance=\"a:1\",job=\"node\"}",
		injected:   L{"instance": "a:1", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 0,
	},
	{
		name:       "ksm_crashloop",
		expr:       "max_over_time(kube_pod_container_status_waiting_reason{reason=\"CrashLoopBackOff\", job=\"kube-state-metrics\"}[5m]) >= 1",
		ids:        L{"container": "api", "instance": "ksm:8080", "job": "kube-state-metrics", "namespace": "prod", "pod": "api-1"},
		query:      "max_over_time(kube_pod_container_status_waiting_reason{container=\"api\",instance=\"ksm:8080\",job=\"kube-state-metrics\",namespace=\"prod\",pod=\"api-1\",reason=\"CrashLoopBackOff\"}[5m])",
		injected:   L{"container": "api", "instance": "ksm:8080", "job": "kube-state-metrics", "namespace": "prod", "pod": "api-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">=", Value: 1}},
		conditions: 0,
	},
	{
		name:       "ksm_restarts",
		expr:       "increase(kube_pod_container_status_restarts_total[15m]) > 3",
		ids:        L{"container": "api", "namespace": "prod", "pod": "api-1"},
		query:      "increase(kube_pod_container_status_restarts_total{container=\"api\",namespace=\"prod\",pod=\"api-1\"}[15m])",
		injected:   L{"container": "api", "namespace": "prod", "pod": "api-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 3}},
		conditions: 0,
	},
	{
		name:       "ksm_notready",
		expr:       "sum by (namespace, pod) (max by(namespace, pod) (kube_pod_status_phase{job=\"kube-state-metrics\", phase=~\"Pending|Unknown|Failed\"}) * on(namespace, pod) group_left(owner_kind) topk by(namespace, pod) (1, max by(namespace, pod, owner_kind) (kube_pod_owner{owner_kind!=\"Job\"}))) > 0",
		ids:        L{"namespace": "prod", "pod": "api-1"},
		query:      "sum by (namespace, pod) (max by (namespace, pod) (kube_pod_status_phase{job=\"kube-state-metrics\",namespace=\"prod\",phase=~\"Pending|Unknown|Failed\",pod=\"api-1\"}) * on (namespace, pod) group_left (owner_kind) topk by (namespace, pod) (1, max by (namespace, pod, owner_kind) (kube_pod_owner{namespace=\"prod\",owner_kind!=\"Job\",pod=\"api-1\"})))",
		injected:   L{"namespace": "prod", "pod": "api-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "ksm_deploy_mismatch",
		expr:       "kube_deployment_spec_replicas{job=\"kube-state-metrics\"} != kube_deployment_status_replicas_available{job=\"kube-state-metrics\"}",
		ids:        L{"deployment": "api", "job": "kube-state-metrics", "namespace": "prod"},
		query:      "kube_deployment_spec_replicas{deployment=\"api\",job=\"kube-state-metrics\",namespace=\"prod\"}",
		injected:   L{"deployment": "api", "job": "kube-state-metrics", "namespace": "prod"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"kube_deployment_status_replicas_available{deployment=\"api\",job=\"kube-state-metrics\",namespace=\"prod\"}"},
	},
	{
		name:       "ksm_deploy_gen",
		expr:       "kube_deployment_status_observed_generation{job=\"kube-state-metrics\"} != kube_deployment_metadata_generation{job=\"kube-state-metrics\"}",
		ids:        L{"deployment": "api", "namespace": "prod"},
		query:      "kube_deployment_status_observed_generation{deployment=\"api\",job=\"kube-state-metrics\",namespace=\"prod\"}",
		injected:   L{"deployment": "api", "namespace": "prod"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"kube_deployment_metadata_generation{deployment=\"api\",job=\"kube-state-metrics\",namespace=\"prod\"}"},
	},
	{
		name:       "ksm_hpa_max",
		expr:       "kube_horizontalpodautoscaler_status_current_replicas{job=\"kube-state-metrics\"} == kube_horizontalpodautoscaler_spec_max_replicas{job=\"kube-state-metrics\"}",
		ids:        L{"horizontalpodautoscaler": "api", "namespace": "prod"},
		query:      "kube_horizontalpodautoscaler_status_current_replicas{horizontalpodautoscaler=\"api\",job=\"kube-state-metrics\",namespace=\"prod\"}",
		injected:   L{"horizontalpodautoscaler": "api", "namespace": "prod"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"kube_horizontalpodautoscaler_spec_max_replicas{horizontalpodautoscaler=\"api\",job=\"kube-state-metrics\",namespace=\"prod\"}"},
	},
	{
		name:       "ksm_job_failed",
		expr:       "kube_job_failed{job=\"kube-state-metrics\"} > 0",
		ids:        L{"job_name": "backup", "namespace": "prod"},
		query:      "kube_job_failed{job=\"kube-state-metrics\",job_name=\"backup\",namespace=\"prod\"}",
		injected:   L{"job_name": "backup", "namespace": "prod"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "ksm_node_notready",
		expr:       "kube_node_status_condition{job=\"kube-state-metrics\",condition=\"Ready\",status=\"true\"} == 0",
		ids:        L{"node": "worker-1"},
		query:      "kube_node_status_condition{condition=\"Ready\",job=\"kube-state-metrics\",node=\"worker-1\",status=\"true\"}",
		injected:   L{"node": "worker-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 0,
	},
	{
		name:       "ksm_cpu_overcommit",
		expr:       "sum(namespace_cpu:kube_pod_container_resource_requests:sum) - (sum(kube_node_status_allocatable{resource=\"cpu\"}) - max(kube_node_status_allocatable{resource=\"cpu\"})) > 0 and (sum(kube_node_status_allocatable{resource=\"cpu\"}) - max(kube_node_status_allocatable{resource=\"cpu\"})) > 0",
		ids:        L{"cluster": "c1"},
		query:      "sum(namespace_cpu:kube_pod_container_resource_requests:sum) - (sum(kube_node_status_allocatable{resource=\"cpu\"}) - max(kube_node_status_allocatable{resource=\"cpu\"}))",
		injected:   nil,
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 1,
	},
	{
		name:       "ksm_pvc_full",
		expr:       "kubelet_volume_stats_available_bytes{job=\"kubelet\"} / kubelet_volume_stats_capacity_bytes{job=\"kubelet\"} < 0.03 and kubelet_volume_stats_used_bytes{job=\"kubelet\"} > 0 unless on(namespace, persistentvolumeclaim) kube_persistentvolumeclaim_access_mode{access_mode=\"ReadOnlyMany\"} == 1",
		ids:        L{"namespace": "prod", "persistentvolumeclaim": "data-0"},
		query:      "kubelet_volume_stats_available_bytes{job=\"kubelet\",namespace=\"prod\",persistentvolumeclaim=\"data-0\"} / kubelet_volume_stats_capacity_bytes{job=\"kubelet\",namespace=\"prod\",persistentvolumeclaim=\"data-0\"}",
		injected:   L{"namespace": "prod", "persistentvolumeclaim": "data-0"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 0.03}},
		conditions: 2,
	},
	{
		name:       "kubelet_pleg",
		expr:       "histogram_quantile(0.99, sum by (instance, le) (rate(kubelet_pleg_relist_duration_seconds_bucket{job=\"kubelet\"}[5m])) * on(instance) group_left(node) kubelet_node_name{job=\"kubelet\"}) >= 10",
		ids:        L{"instance": "10.0.0.1:10250", "node": "worker-1"},
		query:      "histogram_quantile(0.99, sum by (instance, le) (rate(kubelet_pleg_relist_duration_seconds_bucket{instance=\"10.0.0.1:10250\",job=\"kubelet\"}[5m])) * on (instance) group_left (node) kubelet_node_name{instance=\"10.0.0.1:10250\",job=\"kubelet\",node=\"worker-1\"})",
		injected:   L{"instance": "10.0.0.1:10250", "node": "worker-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">=", Value: 10}},
		conditions: 0,
	},
	{
		name:       "kubelet_pods",
		expr:       "count by (node) ((kube_pod_status_phase{job=\"kube-state-metrics\",phase=\"Running\"} == 1) * on (instance, pod, namespace) group_left(node) topk by (instance, pod, namespace) (1, kube_pod_info{job=\"kube-state-metrics\"})) / max by (node) (kube_node_status_capacity{job=\"kube-state-metrics\",resource=\"pods\"} != 1) > 0.95",
		ids:        L{"node": "worker-1"},
		query:      "count by (node) ((kube_pod_status_phase{job=\"kube-state-metrics\",phase=\"Running\"} == 1) * on (instance, pod, namespace) group_left (node) topk by (instance, pod, namespace) (1, kube_pod_info{job=\"kube-state-metrics\"})) / max by (node) (kube_node_status_capacity{job=\"kube-state-metrics\",resource=\"pods\"} != 1)",
		injected:   nil,
		post:       L{"node": "worker-1"},
		thresholds: []series.Threshold{{Op: ">", Value: 0.95}},
		conditions: 0,
	},
	{
		name:       "kubelet_down",
		expr:       "absent(up{job=\"kubelet\", metrics_path=\"/metrics\"} == 1)",
		ids:        L{"job": "kubelet"},
		query:      "up{job=\"kubelet\",metrics_path=\"/metrics\"}",
		injected:   L{"job": "kubelet"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 1}},
		conditions: 0,
	},
	{
		name:       "cpu_throttle",
		expr:       "sum(increase(container_cpu_cfs_throttled_periods_total{container!=\"\"}[5m])) by (container, pod, namespace) / sum(increase(container_cpu_cfs_periods_total[5m])) by (container, pod, namespace) > (25 / 100)",
		ids:        L{"container": "api", "namespace": "prod", "pod": "api-1"},
		query:      "sum by (container, pod, namespace) (increase(container_cpu_cfs_throttled_periods_total{container!=\"\",container=\"api\",namespace=\"prod\",pod=\"api-1\"}[5m])) / sum by (container, pod, namespace) (increase(container_cpu_cfs_periods_total{container=\"api\",namespace=\"prod\",pod=\"api-1\"}[5m]))",
		injected:   L{"container": "api", "namespace": "prod", "pod": "api-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.25}},
		conditions: 0,
	},
	{
		name:       "bb_probe",
		expr:       "probe_success == 0",
		ids:        L{"instance": "https://example.com", "job": "blackbox"},
		query:      "probe_success{instance=\"https://example.com\",job=\"blackbox\"}",
		injected:   L{"instance": "https://example.com", "job": "blackbox"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 0,
	},
	{
		name:       "bb_ssl",
		expr:       "probe_ssl_earliest_cert_expiry - time() < 86400 * 14",
		ids:        L{"instance": "https://example.com", "job": "blackbox"},
		query:      "probe_ssl_earliest_cert_expiry{instance=\"https://example.com\",job=\"blackbox\"} - time()",
		injected:   L{"instance": "https://example.com", "job": "blackbox"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 1.2096e+06}},
		conditions: 0,
	},
	{
		name:       "bb_slow",
		expr:       "avg_over_time(probe_duration_seconds[1m]) > 1",
		ids:        L{"instance": "https://example.com", "job": "blackbox"},
		query:      "avg_over_time(probe_duration_seconds{instance=\"https://example.com\",job=\"blackbox\"}[1m])",
		injected:   L{"instance": "https://example.com", "job": "blackbox"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 1}},
		conditions: 0,
	},
	{
		name:       "bb_status",
		expr:       "probe_http_status_code <= 199 or probe_http_status_code >= 400",
		ids:        L{"instance": "https://example.com", "job": "blackbox"},
		query:      "probe_http_status_code{instance=\"https://example.com\",job=\"blackbox\"}",
		injected:   L{"instance": "https://example.com", "job": "blackbox"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<=", Value: 199}, {Op: ">=", Value: 400}},
		conditions: 0,
	},
	{
		name:       "mysql_down",
		expr:       "mysql_up == 0",
		ids:        L{"instance": "db1:9104", "job": "mysql"},
		query:      "mysql_up{instance=\"db1:9104\",job=\"mysql\"}",
		injected:   L{"instance": "db1:9104", "job": "mysql"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 0,
	},
	{
		name:       "mysql_conn",
		expr:       "max_over_time(mysql_global_status_threads_connected[1m]) / mysql_global_variables_max_connections * 100 > 80",
		ids:        L{"instance": "db1:9104", "job": "mysql"},
		query:      "max_over_time(mysql_global_status_threads_connected{instance=\"db1:9104\",job=\"mysql\"}[1m]) / mysql_global_variables_max_connections{instance=\"db1:9104\",job=\"mysql\"} * 100",
		injected:   L{"instance": "db1:9104", "job": "mysql"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 80}},
		conditions: 0,
	},
	{
		name:       "mysql_slave",
		expr:       "(mysql_slave_status_slave_io_running and ON (instance) mysql_slave_status_master_server_id > 0) == 0",
		ids:        L{"instance": "db1:9104", "job": "mysql"},
		query:      "mysql_slave_status_slave_io_running{instance=\"db1:9104\",job=\"mysql\"}",
		injected:   L{"instance": "db1:9104", "job": "mysql"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 1,
	},
	{
		name:       "mysql_lag",
		expr:       "(mysql_slave_status_seconds_behind_master - mysql_slave_status_sql_delay) and ON (instance) mysql_slave_status_master_server_id > 0 > 30",
		ids:        L{"instance": "db1:9104", "job": "mysql"},
		query:      "mysql_slave_status_seconds_behind_master{instance=\"db1:9104\",job=\"mysql\"} - mysql_slave_status_sql_delay{instance=\"db1:9104\",job=\"mysql\"}",
		injected:   L{"instance": "db1:9104", "job": "mysql"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
	},
	{
		name:       "mysql_slow",
		expr:       "increase(mysql_global_status_slow_queries[1m]) > 0",
		ids:        L{"instance": "db1:9104", "job": "mysql"},
		query:      "increase(mysql_global_status_slow_queries{instance=\"db1:9104\",job=\"mysql\"}[1m])",
		injected:   L{"instance": "db1:9104", "job": "mysql"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "redis_down",
		expr:       "redis_up == 0",
		ids:        L{"instance": "redis1:9121", "job": "redis"},
		query:      "redis_up{instance=\"redis1:9121\",job=\"redis\"}",
		injected:   L{"instance": "redis1:9121", "job": "redis"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 0,
	},
	{
		name:       "redis_mem",
		expr:       "redis_memory_used_bytes / redis_memory_max_bytes * 100 > 90 and on(instance) redis_memory_max_bytes > 0",
		ids:        L{"instance": "redis1:9121", "job": "redis"},
		query:      "redis_memory_used_bytes{instance=\"redis1:9121\",job=\"redis\"} / redis_memory_max_bytes{instance=\"redis1:9121\",job=\"redis\"} * 100",
		injected:   L{"instance": "redis1:9121", "job": "redis"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 90}},
		conditions: 1,
	},
	{
		name:       "redis_rejected",
		expr:       "increase(redis_rejected_connections_total[1m]) > 0",
		ids:        L{"instance": "redis1:9121", "job": "redis"},
		query:      "increase(redis_rejected_connections_total{instance=\"redis1:9121\",job=\"redis\"}[1m])",
		injected:   L{"instance": "redis1:9121", "job": "redis"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "redis_master",
		expr:       "count(redis_instance_info{role=\"master\"}) > 1",
		ids:        L{"job": "redis"},
		query:      "count(redis_instance_info{role=\"master\"})",
		injected:   nil,
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 1}},
		conditions: 0,
	},
	{
		name:       "nginx_5xx",
		expr:       "sum by (instance) (rate(nginx_http_requests_total{status=~\"^5..\"}[1m])) / sum by (instance) (rate(nginx_http_requests_total[1m])) * 100 > 5",
		ids:        L{"instance": "web1:9113", "job": "nginx"},
		query:      "sum by (instance) (rate(nginx_http_requests_total{instance=\"web1:9113\",status=~\"^5..\"}[1m])) / sum by (instance) (rate(nginx_http_requests_total{instance=\"web1:9113\"}[1m])) * 100",
		injected:   L{"instance": "web1:9113"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 5}},
		conditions: 0,
	},
	{
		name:       "nginx_latency",
		expr:       "histogram_quantile(0.99, sum by (host, le) (rate(nginx_http_request_duration_seconds_bucket[2m]))) > 3",
		ids:        L{"host": "example.com", "instance": "web1:9113", "job": "nginx"},
		query:      "histogram_quantile(0.99, sum by (host, le) (rate(nginx_http_request_duration_seconds_bucket{host=\"example.com\"}[2m])))",
		injected:   L{"host": "example.com"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 3}},
		conditions: 0,
	},
	{
		// An older Sloth shape: plain selectors joined with and/or ignoring
		// (sloth_window); the alert carries sloth_window. Each window is a
		// part; the long windows' own sloth_window is free (ignored by their
		// `and`); the 30m tier's short window keeps the alert's 5m (it is an
		// operand of `or`, whose series is the alert's only with that label).
		name:       "slo_burn_fast",
		expr:       "(slo:sli_error:ratio_rate5m{sloth_id=\"api-availability\", sloth_service=\"api\", sloth_slo=\"availability\"} > (14.4 * 0.001)) and ignoring (sloth_window) (slo:sli_error:ratio_rate1h{sloth_id=\"api-availability\", sloth_service=\"api\", sloth_slo=\"availability\"} > (14.4 * 0.001)) or ignoring (sloth_window) (slo:sli_error:ratio_rate30m{sloth_id=\"api-availability\", sloth_service=\"api\", sloth_slo=\"availability\"} > (6 * 0.001)) and ignoring (sloth_window) (slo:sli_error:ratio_rate6h{sloth_id=\"api-availability\", sloth_service=\"api\", sloth_slo=\"availability\"} > (6 * 0.001))",
		ids:        L{"service": "api", "slo": "availability", "sloth_window": "5m"},
		query:      "slo:sli_error:ratio_rate5m{service=\"api\",slo=\"availability\",sloth_id=\"api-availability\",sloth_service=\"api\",sloth_slo=\"availability\",sloth_window=\"5m\"} or slo:sli_error:ratio_rate1h{service=\"api\",slo=\"availability\",sloth_id=\"api-availability\",sloth_service=\"api\",sloth_slo=\"availability\"} or ignoring (sloth_window) slo:sli_error:ratio_rate30m{service=\"api\",slo=\"availability\",sloth_id=\"api-availability\",sloth_service=\"api\",sloth_slo=\"availability\",sloth_window=\"5m\"} or slo:sli_error:ratio_rate6h{service=\"api\",slo=\"availability\",sloth_id=\"api-availability\",sloth_service=\"api\",sloth_slo=\"availability\"}",
		injected:   L{"service": "api", "slo": "availability", "sloth_window": "5m"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.014400000000000001, Series: "5m, 1h"}, {Op: ">", Value: 0.006, Series: "30m, 6h"}},
		conditions: 0,
		parts:      []string{"5m", "1h", "30m", "6h"},
	},

	{
		// Two windows of one tier, told apart by their ranges.
		name:       "slo_burn_mw",
		expr:       "sum by (job) (rate(http_requests_total{code=~\"5..\"}[1h])) / sum by (job) (rate(http_requests_total[1h])) > (14.4 * (1 - 0.999)) and sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (job) (rate(http_requests_total[5m])) > (14.4 * (1 - 0.999))",
		ids:        L{"job": "api"},
		query:      "sum by (job) (rate(http_requests_total{code=~\"5..\",job=\"api\"}[1h])) / sum by (job) (rate(http_requests_total{job=\"api\"}[1h])) or sum by (job) (rate(http_requests_total{code=~\"5..\",job=\"api\"}[5m])) / sum by (job) (rate(http_requests_total{job=\"api\"}[5m]))",
		injected:   L{"job": "api"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.014400000000000013}},
		conditions: 0,
		parts:      []string{"1h", "5m"},
	},

	{
		// kube-prometheus' apiserver burn-rate alert over recording rules.
		name:       "slo_burn_recording",
		expr:       "sum(apiserver_request:burnrate1h) > (14.40 * 0.01000) and sum(apiserver_request:burnrate5m) > (14.40 * 0.01000)",
		ids:        L{"job": "apiserver"},
		query:      "sum(apiserver_request:burnrate1h) or sum(apiserver_request:burnrate5m)",
		injected:   nil,
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.14400000000000002}},
		conditions: 0,
		parts:      []string{"1h", "5m"},
	},

	{
		name:       "rec_rule",
		expr:       "instance:node_cpu_utilisation:rate5m{job=\"node\"} > 0.9",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "instance:node_cpu_utilisation:rate5m{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.9}},
		conditions: 0,
	},
	{
		name:       "rec_rule_ns",
		expr:       "namespace:container_memory_usage_bytes:sum / namespace:kube_pod_container_resource_limits_memory_bytes:sum > 0.9",
		ids:        L{"namespace": "prod"},
		query:      "namespace:container_memory_usage_bytes:sum{namespace=\"prod\"} / namespace:kube_pod_container_resource_limits_memory_bytes:sum{namespace=\"prod\"}",
		injected:   L{"namespace": "prod"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.9}},
		conditions: 0,
	},
	{
		name:       "label_replace_host",
		expr:       "label_replace(node_load5, \"host\", \"$1\", \"instance\", \"([^:]+):.*\") > 4",
		ids:        L{"host": "node1", "instance": "node1:9100", "job": "node"},
		query:      "label_replace(node_load5{instance=\"node1:9100\",job=\"node\"}, \"host\", \"$1\", \"instance\", \"([^:]+):.*\")",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       L{"host": "node1"},
		thresholds: []series.Threshold{{Op: ">", Value: 4}},
		conditions: 0,
	},
	{
		name:       "label_replace_other",
		expr:       "label_replace(node_load5, \"host\", \"$1\", \"instance\", \"([^:]+):.*\") > 4",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "label_replace(node_load5{instance=\"node1:9100\",job=\"node\"}, \"host\", \"$1\", \"instance\", \"([^:]+):.*\")",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 4}},
		conditions: 0,
	},
	{
		name:       "threshold_left",
		expr:       "90 < node_memory_Active_bytes / node_memory_MemTotal_bytes * 100",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_memory_Active_bytes{instance=\"node1:9100\",job=\"node\"} / node_memory_MemTotal_bytes{instance=\"node1:9100\",job=\"node\"} * 100",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 90}},
		conditions: 0,
	},
	{
		name:       "threshold_left_ge",
		expr:       "0.5 >= node_filesystem_free_bytes / node_filesystem_size_bytes",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_filesystem_free_bytes{instance=\"node1:9100\",job=\"node\"} / node_filesystem_size_bytes{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<=", Value: 0.5}},
		conditions: 0,
	},
	{
		name:       "bool_cmp",
		expr:       "(node_load1 > bool 4) == 1",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_load1{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 4}},
		conditions: 1,
	},
	{
		name:       "bool_sum",
		expr:       "sum by (job) (up == bool 0) > 2",
		ids:        L{"job": "node"},
		query:      "sum by (job) (up{job=\"node\"} == bool 0)",
		injected:   L{"job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 2}},
		conditions: 0,
	},
	{
		name:       "and_on_time",
		expr:       "node_load1 > 4 and on() hour() >= 9 < 18",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_load1{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 4}},
		conditions: 1,
	},
	{
		name:       "and_on_vector",
		expr:       "rate(node_context_switches_total[5m]) > 10000 and on() (vector(1) == 1)",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "rate(node_context_switches_total{instance=\"node1:9100\",job=\"node\"}[5m])",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 10000}},
		conditions: 1,
	},
	{
		name:       "unless_maint",
		expr:       "up{job=\"node\"} == 0 unless on(instance) maintenance_mode == 1",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "up{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0}},
		conditions: 1,
	},
	{
		name:       "unless_silence",
		expr:       "node_load15 > 10 unless on(instance) ALERTS{alertname=\"NodeDown\"}",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_load15{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 10}},
		conditions: 1,
	},
	{
		name:       "offset_compare",
		expr:       "rate(http_requests_total[5m]) < rate(http_requests_total[5m] offset 1w) * 0.5",
		ids:        L{"instance": "web1", "job": "web"},
		query:      "rate(http_requests_total{instance=\"web1\",job=\"web\"}[5m])",
		injected:   L{"instance": "web1", "job": "web"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"rate(http_requests_total{instance=\"web1\",job=\"web\"}[5m] offset 1w) * 0.5"},
	},
	{
		name:       "offset_scalar",
		expr:       "sum by (instance) (rate(http_requests_total[5m] offset 5m)) > 100",
		ids:        L{"instance": "web1", "job": "web"},
		query:      "sum by (instance) (rate(http_requests_total{instance=\"web1\"}[5m] offset 5m))",
		injected:   L{"instance": "web1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 100}},
		conditions: 0,
	},
	{
		name:       "subquery_max",
		expr:       "max_over_time(rate(node_cpu_seconds_total{mode=\"system\"}[1m])[10m:1m]) > 0.5",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "max_over_time(rate(node_cpu_seconds_total{instance=\"node1:9100\",job=\"node\",mode=\"system\"}[1m])[10m:1m])",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.5}},
		conditions: 0,
	},
	{
		name:       "subquery_deriv",
		expr:       "deriv(avg_over_time(node_filesystem_avail_bytes[5m])[30m:5m]) < -1e6",
		ids:        L{"instance": "node1:9100", "job": "node", "mountpoint": "/"},
		query:      "deriv(avg_over_time(node_filesystem_avail_bytes{instance=\"node1:9100\",job=\"node\",mountpoint=\"/\"}[5m])[30m:5m])",
		injected:   L{"instance": "node1:9100", "job": "node", "mountpoint": "/"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: -1e+06}},
		conditions: 0,
	},
	{
		name:       "topk_cmp",
		expr:       "topk(3, node_load1) > 5",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "topk(3, node_load1)",
		injected:   nil,
		post:       L{"instance": "node1:9100", "job": "node"},
		thresholds: []series.Threshold{{Op: ">", Value: 5}},
		conditions: 0,
	},
	{
		name:       "topk_by",
		expr:       "topk by (instance) (1, node_load1) > 5",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "topk by (instance) (1, node_load1{instance=\"node1:9100\"})",
		injected:   L{"instance": "node1:9100"},
		post:       L{"job": "node"},
		thresholds: []series.Threshold{{Op: ">", Value: 5}},
		conditions: 0,
	},
	{
		name:       "without_agg",
		expr:       "sum without (mode) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m])) > 0.9",
		ids:        L{"cpu": "0", "instance": "node1:9100", "job": "node"},
		query:      "sum without (mode) (rate(node_cpu_seconds_total{cpu=\"0\",instance=\"node1:9100\",job=\"node\",mode!=\"idle\"}[5m]))",
		injected:   L{"cpu": "0", "instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0.9}},
		conditions: 0,
	},
	{
		name:       "count_values_agg",
		expr:       "count_values(\"version\", node_exporter_build_info) > 1",
		ids:        L{"job": "node", "version": "1.2"},
		query:      "count_values(\"version\", node_exporter_build_info)",
		injected:   nil,
		post:       L{"version": "1.2"},
		thresholds: []series.Threshold{{Op: ">", Value: 1}},
		conditions: 0,
	},
	{
		name:       "group_right",
		expr:       "kube_node_labels{label_pool=\"spot\"} * on(node) group_right() kube_pod_info > 0",
		ids:        L{"namespace": "prod", "node": "worker-1", "pod": "api-1"},
		query:      "kube_node_labels{label_pool=\"spot\",node=\"worker-1\"} * on (node) group_right () kube_pod_info{namespace=\"prod\",node=\"worker-1\",pod=\"api-1\"}",
		injected:   L{"namespace": "prod", "node": "worker-1", "pod": "api-1"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "range_gate",
		expr:       "node_load1 > 2 < 100",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_load1{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "<", Value: 100}, {Op: ">", Value: 2}},
		conditions: 0,
	},
	{
		name:       "scalar_threshold",
		expr:       "node_load1 > scalar(avg(node_load1)) * 2",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_load1{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{},
		conditions: 1,
		refs:       []string{"vector(scalar(avg(node_load1)) * 2)"},
	},
	{
		name:       "time_since",
		expr:       "time() - batch_last_success_timestamp_seconds > 3600",
		ids:        L{"instance": "cron1", "job": "batch"},
		query:      "time() - batch_last_success_timestamp_seconds{instance=\"cron1\",job=\"batch\"}",
		injected:   L{"instance": "cron1", "job": "batch"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 3600}},
		conditions: 0,
	},
	{
		name:       "changes_reboot",
		expr:       "changes(node_boot_time_seconds[10m]) > 0",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "changes(node_boot_time_seconds{instance=\"node1:9100\",job=\"node\"}[10m])",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 0}},
		conditions: 0,
	},
	{
		name:       "neg_threshold",
		expr:       "node_hwmon_temp_celsius - node_hwmon_temp_crit_celsius > -5",
		ids:        L{"instance": "node1:9100", "job": "node"},
		query:      "node_hwmon_temp_celsius{instance=\"node1:9100\",job=\"node\"} - node_hwmon_temp_crit_celsius{instance=\"node1:9100\",job=\"node\"}",
		injected:   L{"instance": "node1:9100", "job": "node"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: -5}},
		conditions: 0,
	},
	{
		// The constant fallback cannot be the labelled alert's series.
		name:       "sum_or_vector",
		expr:       "(sum by (job) (rate(errors_total[5m])) or vector(0)) > 10",
		ids:        L{"job": "api"},
		query:      "sum by (job) (rate(errors_total{job=\"api\"}[5m]))",
		injected:   L{"job": "api"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 10}},
		conditions: 0,
		dropped:    1,
	},

	{
		// Each operand of `or` is fetched on its own and narrowed to the
		// alert's labels; each keeps its own threshold.
		name:       "or_on_instance",
		expr:       "(up{job=\"x\"} == 0) or on(job) (rate(x_errors_total[5m]) > 1)",
		ids:        L{"instance": "a:1", "job": "x"},
		query:      "up{instance=\"a:1\",job=\"x\"} or on (job) rate(x_errors_total{instance=\"a:1\",job=\"x\"}[5m])",
		injected:   L{"instance": "a:1", "job": "x"},
		post:       nil,
		thresholds: []series.Threshold{{Op: "==", Value: 0, Series: "up"}, {Op: ">", Value: 1, Series: "x_errors_total"}},
		conditions: 0,
		parts:      []string{"up", "x_errors_total"},
	},

	{
		name:       "info_fn",
		expr:       "node_load1 * on(instance) group_left(version) node_exporter_build_info > 2",
		ids:        L{"instance": "a:1", "job": "x", "version": "2"},
		query:      "node_load1{instance=\"a:1\",job=\"x\"} * on (instance) group_left (version) node_exporter_build_info{instance=\"a:1\",version=\"2\"}",
		injected:   L{"instance": "a:1", "job": "x", "version": "2"},
		post:       nil,
		thresholds: []series.Threshold{{Op: ">", Value: 2}},
		conditions: 0,
	},
}

func TestRewriteTable(t *testing.T) {
	t.Parallel()
	if len(rewriteCases) < 60 {
		t.Fatalf("the table must hold at least 60 expressions, has %d", len(rewriteCases))
	}
	seen := map[string]bool{}
	for _, tc := range rewriteCases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) { checkRewrite(t, tc) })
	}
}

// checkRewrite rewrites tc.expr for tc.ids and compares every output.
func checkRewrite(t *testing.T, tc rewriteCase) {
	t.Helper()
	rw, err := RewriteExpr(tc.expr, tc.ids)
	if err != nil {
		t.Fatalf("RewriteExpr: %v", err)
	}
	if rw.Query != tc.query {
		t.Errorf("query\n got: %s\nwant: %s", rw.Query, tc.query)
	}
	if !reflect.DeepEqual(nilIfEmpty(rw.Injected), tc.injected) {
		t.Errorf("injected = %v, want %v", rw.Injected, tc.injected)
	}
	if !reflect.DeepEqual(nilIfEmpty(rw.PostFilter), tc.post) {
		t.Errorf("post-filter = %v, want %v", rw.PostFilter, tc.post)
	}
	if len(rw.Thresholds) != len(tc.thresholds) {
		t.Fatalf("thresholds = %v, want %v", rw.Thresholds, tc.thresholds)
	}
	for i, th := range rw.Thresholds {
		want := tc.thresholds[i]
		if th.Op != want.Op || th.Series != want.Series || math.Abs(th.Value-want.Value) > 1e-9*math.Max(1, math.Abs(want.Value)) {
			t.Errorf("threshold %d = %v, want %v", i, th, want)
		}
	}
	var refs []string
	for _, r := range rw.References {
		refs = append(refs, r.Query)
		if _, err := ParseExpr(r.Query); err != nil {
			t.Errorf("reference %q does not parse: %v", r.Query, err)
		}
	}
	if !reflect.DeepEqual(refs, tc.refs) {
		t.Errorf("references = %q, want %q", refs, tc.refs)
	}
	if len(rw.Conditions) != tc.conditions {
		t.Errorf("conditions = %q, want %d of them", rw.Conditions, tc.conditions)
	}
	var parts []string
	for _, p := range rw.Parts {
		parts = append(parts, p.Name)
		if _, err := ParseExpr(p.Query); err != nil {
			t.Errorf("part %q does not parse: %v", p.Query, err)
		}
	}
	if !reflect.DeepEqual(parts, tc.parts) {
		t.Errorf("parts = %q, want %q", parts, tc.parts)
	}
	if len(rw.KeptFilters) != tc.kept || len(rw.Dropped) != tc.dropped {
		t.Errorf("kept filters %q, dropped %q; want %d and %d", rw.KeptFilters, rw.Dropped, tc.kept, tc.dropped)
	}
	// The chart query must parse and must not compare against a
	// scalar at its top any more.
	e, err := ParseExpr(rw.Query)
	if err != nil {
		t.Fatalf("chart query does not parse: %v", err)
	}
	if e.String() != rw.Query {
		t.Errorf("chart query is not in canonical form: %s", rw.Query)
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
