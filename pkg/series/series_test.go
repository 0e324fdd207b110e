package series

import (
	"reflect"
	"testing"
)

func TestShortNames(t *testing.T) {
	ss := []Series{
		{Labels: map[string]string{"__name__": "node_load1", "instance": "web-1", "job": "node"}},
		{Labels: map[string]string{"__name__": "node_load1", "instance": "web-2", "job": "node"}},
		{Labels: map[string]string{"__name__": "node_load1", "instance": "web-3", "job": "node", "zone": "b"}},
	}
	keys := DifferingLabels(ss)
	if !reflect.DeepEqual(keys, []string{"instance", "zone"}) {
		t.Fatalf("differing = %q", keys)
	}
	if got := ShortName(ss[0].Labels, []string{"instance"}); got != "web-1" {
		t.Errorf("one label: %q", got)
	}
	if got := ShortName(ss[2].Labels, keys); got != "instance=web-3, zone=b" {
		t.Errorf("two labels: %q", got)
	}
	if got := ShortName(ss[0].Labels, keys); got != "web-1" {
		t.Errorf("a label the series lacks is left out: %q", got)
	}
	if DifferingLabels(ss[:1]) != nil {
		t.Error("one series has no differing labels")
	}
}
