package fakegrafana

// Sample dashboards shaped like what Grafana 12/13 stores, for tests that
// need a template panel. SampleDashboard is schema v1 (classic) with a
// styled time series panel (id 2), a stat panel (id 3) and a collapsed row
// holding panel 5; SampleV2Spec is the same time series panel in schema v2
// (v2beta1 shape).
const (
	SampleDashboardUID = "tmpl-node"
	SamplePanelID      = 2
	SampleRowPanelID   = 5
	SampleV2UID        = "tmpl-node-v2"
	SampleV2PanelID    = 7
	SampleDatasource   = "prom-main"
)

// SampleDashboard is a classic dashboard JSON model.
var SampleDashboard = []byte(`{
  "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": true,
    "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
  "editable": true,
  "graphTooltip": 1,
  "id": 12,
  "links": [],
  "panels": [
    {
      "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
      "fieldConfig": {
        "defaults": {
          "color": {"mode": "palette-classic"},
          "custom": {"axisPlacement": "auto", "drawStyle": "line", "fillOpacity": 12, "gradientMode": "opacity",
            "lineInterpolation": "smooth", "lineWidth": 2, "showPoints": "never", "spanNulls": false,
            "thresholdsStyle": {"mode": "off"}},
          "decimals": 1,
          "mappings": [],
          "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": null}, {"color": "orange", "value": 70}]},
          "unit": "percent"
        },
        "overrides": [{"matcher": {"id": "byName", "options": "total"}, "properties": [{"id": "custom.lineWidth", "value": 3}]}]
      },
      "gridPos": {"h": 9, "w": 12, "x": 0, "y": 0},
      "id": 2,
      "options": {"legend": {"calcs": ["max", "min", "lastNotNull"], "displayMode": "table", "placement": "bottom", "showLegend": true},
        "tooltip": {"mode": "multi", "sort": "desc"}},
      "pluginVersion": "13.1.0",
      "repeat": "instance",
      "targets": [{"datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, "editorMode": "code",
        "expr": "100 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\", instance=~\"$instance\"}[5m])) * 100",
        "interval": "30s", "legendFormat": "{{instance}}", "range": true, "refId": "A"}],
      "timeFrom": "6h",
      "title": "CPU usage",
      "type": "timeseries"
    },
    {
      "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
      "gridPos": {"h": 9, "w": 12, "x": 12, "y": 0},
      "id": 3,
      "options": {"colorMode": "value", "reduceOptions": {"calcs": ["lastNotNull"]}},
      "targets": [{"expr": "count(up)", "refId": "A"}],
      "title": "Targets",
      "type": "stat"
    },
    {
      "collapsed": true,
      "gridPos": {"h": 1, "w": 24, "x": 0, "y": 9},
      "id": 4,
      "panels": [
        {"datasource": {"type": "prometheus", "uid": "prom-main"}, "gridPos": {"h": 8, "w": 24, "x": 0, "y": 10}, "id": 5,
         "targets": [{"expr": "node_memory_MemAvailable_bytes", "refId": "A"}], "title": "Memory", "type": "timeseries",
         "fieldConfig": {"defaults": {"unit": "bytes"}, "overrides": []}, "options": {}}
      ],
      "title": "Memory",
      "type": "row"
    }
  ],
  "refresh": "30s",
  "schemaVersion": 41,
  "tags": ["node"],
  "templating": {"list": [
    {"current": {"text": "Prometheus", "value": "prom-main"}, "name": "DS_PROMETHEUS", "query": "prometheus", "type": "datasource"},
    {"current": {"text": "All", "value": "$__all"}, "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
     "includeAll": true, "multi": true, "name": "instance", "query": "label_values(up, instance)", "type": "query"}
  ]},
  "time": {"from": "now-6h", "to": "now"},
  "timezone": "browser",
  "title": "Node overview",
  "uid": "tmpl-node",
  "version": 7
}`)

// SampleV2Spec is a schema v2 (v2beta1) dashboard spec.
var SampleV2Spec = []byte(`{
  "title": "Node overview (v2)",
  "description": "dynamic dashboard",
  "tags": ["node"],
  "timeSettings": {"from": "now-6h", "to": "now", "timezone": "browser", "autoRefresh": "", "autoRefreshIntervals": ["5s"],
    "fiscalYearStartMonth": 0, "hideTimepicker": false},
  "cursorSync": "Crosshair",
  "elements": {
    "panel-7": {
      "kind": "Panel",
      "spec": {
        "id": 7,
        "title": "Disk IO",
        "description": "",
        "links": [],
        "data": {"kind": "QueryGroup", "spec": {
          "queries": [{"kind": "PanelQuery", "spec": {"refId": "A", "hidden": false,
            "query": {"kind": "DataQuery", "group": "prometheus", "version": "v0", "datasource": {"name": "prom-main"},
              "spec": {"expr": "rate(node_disk_io_time_seconds_total[5m])", "legendFormat": "{{device}}", "range": true}}}}],
          "transformations": [{"kind": "organize", "spec": {"id": "organize", "options": {}}}],
          "queryOptions": {"interval": "1m", "maxDataPoints": 500}}},
        "vizConfig": {"kind": "VizConfig", "group": "timeseries", "version": "13.1.0", "spec": {
          "options": {"legend": {"displayMode": "list", "placement": "right", "showLegend": true}},
          "fieldConfig": {"defaults": {"unit": "percentunit", "custom": {"lineWidth": 3, "fillOpacity": 30}}, "overrides": []}}}
      }
    },
    "panel-8": {"kind": "LibraryPanel", "spec": {"id": 8, "title": "Shared", "libraryPanel": {"uid": "lib1", "name": "Shared"}}}
  },
  "layout": {"kind": "GridLayout", "spec": {"items": [
    {"kind": "GridLayoutItem", "spec": {"x": 0, "y": 0, "width": 24, "height": 8, "element": {"kind": "ElementReference", "name": "panel-7"}}},
    {"kind": "GridLayoutItem", "spec": {"x": 0, "y": 8, "width": 24, "height": 8, "element": {"kind": "ElementReference", "name": "panel-8"}}}
  ]}},
  "variables": [],
  "annotations": []
}`)
