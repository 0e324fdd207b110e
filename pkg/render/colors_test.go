package render

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

func TestFieldOverrides(t *testing.T) {
	t.Parallel()
	var panel map[string]any
	err := json.Unmarshal([]byte(`{
	  "type": "timeseries",
	  "fieldConfig": {
	    "defaults": {"custom": {"lineWidth": 1}},
	    "overrides": [
	      {"matcher": {"id": "byName", "options": "db-master-01:9100"},
	       "properties": [{"id": "color", "value": {"fixedColor": "purple", "mode": "fixed"}}, {"id": "custom.lineWidth", "value": 3}]},
	      {"matcher": {"id": "byRegexp", "options": "cache-.*"},
	       "properties": [{"id": "custom.hideFrom", "value": {"legend": false, "tooltip": false, "viz": true}}]},
	      {"matcher": {"id": "byType", "options": "number"}, "properties": [{"id": "unit", "value": "bytes"}]}
	    ]
	  },
	  "targets": [{"expr": "up", "legendFormat": "{{instance}}", "refId": "A"}]
	}`), &panel)
	if err != nil {
		t.Fatal(err)
	}
	st, err := StyleFromPanel(panel)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Overrides) != 2 {
		t.Fatalf("overrides %+v", st.Overrides)
	}
	ss := []series.Series{
		{Labels: map[string]string{"instance": "web-01:9100"}, Points: wave(240, 50, 20, 0)},
		{Labels: map[string]string{"instance": "db-master-01:9100"}, Points: wave(240, 30, 20, 1)},
		{Labels: map[string]string{"instance": "cache-05"}, Points: wave(240, 70, 20, 2)},
	}
	c := &Chart{Series: ss, From: t0, To: t0.Add(time.Hour), Style: st}
	if err := c.Style.validate(); err != nil {
		t.Fatal(err)
	}
	o := Options{}
	if err := o.normalise(); err != nil {
		t.Fatal(err)
	}
	r, err := resolve(c, o)
	if err != nil {
		t.Fatal(err)
	}
	_, _, ps, _ := r.prepare()
	purple, _ := ParseColor("purple")
	if ps[1].color != purple || ps[1].lineWidth != 3 || ps[0].color == purple {
		t.Errorf("byName override: %+v / %+v", ps[1], ps[0])
	}
	if !ps[2].hidden || ps[0].hidden {
		t.Error("byRegexp hideFrom.viz not applied")
	}
	bad := map[string]any{"fieldConfig": map[string]any{"overrides": []any{map[string]any{"matcher": map[string]any{"id": "byRegexp", "options": "("}, "properties": []any{map[string]any{"id": "custom.lineWidth", "value": 2}}}}}}
	if _, err := StyleFromPanel(bad); err == nil {
		t.Error("invalid override regexp accepted")
	}
}
