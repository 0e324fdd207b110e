package fakegrafana

import (
	"encoding/json"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// TestQueryAnswerAsTheSDKWritesIt: the fake's /api/ds/query answer is byte
// for byte what the plugin SDK's backend.QueryDataResponse writes, for
// frames, an error with a source and one without.
func TestQueryAnswerAsTheSDKWritesIt(t *testing.T) {
	frame := func() data.Frames {
		f := data.NewFrame("", data.NewField("Time", nil, []int64{1, 2}),
			data.NewField("Value", data.Labels{"instance": "node-1:9100"}, []float64{0.5, 0.75}))
		f.RefID = "A"
		return data.Frames{f}
	}
	sdk := backend.NewQueryDataResponse()
	sdk.Responses["A"] = backend.DataResponse{Frames: frame(), Status: backend.StatusOK}
	sdk.Responses["B"] = backend.ErrDataResponse(backend.StatusBadRequest, "no expressions")
	sdk.Responses["C"] = backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, "parse error")
	ours := queryDataResponse{Results: map[string]dataResponse{
		"A": {Frames: frame(), Status: 200},
		"B": errDataResponse(400, "", "no expressions"),
		"C": errDataResponse(400, "downstream", "parse error"),
	}}
	want, err := json.Marshal(sdk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(ours)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("the fake writes\n%s\nthe SDK writes\n%s", got, want)
	}
}
