package resources

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/pipeline"
)

// deliveryStatuses are the values GET /deliveries?status= accepts.
var deliveryStatuses = delivery.Statuses

func (a *api) deliveries(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			intake.WriteError(w, &intake.Error{Status: http.StatusBadRequest, Field: "limit", Msg: "limit must be a number from 1 to 1000"})
			return
		}
		limit = n
	}
	status := q.Get("status")
	if status != "" && !slices.Contains(deliveryStatuses, status) {
		intake.WriteError(w, &intake.Error{Status: http.StatusBadRequest, Field: "status", Msg: "status must be pending, sent, partial or failed"})
		return
	}
	list, err := p.Delivery().Deliveries(r.Context(), limit, status, q.Get("receiver"))
	if err != nil {
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: "could not read the delivery records: " + err.Error()})
		return
	}
	intake.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": list})
}

func (a *api) delivery(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	id := r.PathValue("id")
	d, err := p.Delivery().Delivery(r.Context(), id)
	switch {
	case errors.Is(err, delivery.ErrNotFound):
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no delivery " + strconv.Quote(id)})
	case err != nil:
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: "could not read the delivery records: " + err.Error()})
	default:
		intake.WriteJSON(w, http.StatusOK, d)
	}
}

// deliveryChart serves the stored chart image of one alert of a delivery
// (?fingerprint=; the first one stored when it is empty).
func (a *api) deliveryChart(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	ct, img, err := p.Delivery().ChartImage(r.Context(), r.PathValue("id"), r.URL.Query().Get("fingerprint"))
	switch {
	case errors.Is(err, delivery.ErrNotFound):
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no chart for this delivery"})
	case err != nil:
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: "could not read the chart: " + err.Error()})
	default:
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(img)
	}
}

func (a *api) resend(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	id := r.PathValue("id")
	newID, err := p.Delivery().Resend(r.Context(), id)
	switch {
	case errors.Is(err, delivery.ErrNotFound):
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no delivery " + strconv.Quote(id)})
	case errors.Is(err, delivery.ErrClosed):
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: err.Error()})
	case err != nil:
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: "could not queue the resend: " + err.Error()})
	default:
		intake.WriteJSON(w, http.StatusOK, resendAnswer{OK: true, ID: newID})
	}
}

// resendAnswer is POST /deliveries/{id}/resend's answer.
type resendAnswer struct {
	OK bool   `json:"ok"`
	ID string `json:"id"`
}

// testAnswer is POST /channels/{name}/test's answer.
type testAnswer struct {
	OK     bool               `json:"ok"`
	Error  string             `json:"error,omitempty"`
	Kind   channels.ErrorKind `json:"kind,omitempty"`
	Result *channels.Result   `json:"result,omitempty"`
}

// testChannel needs no body: Grafana's page posts none (content-length 0).
func (a *api) testChannel(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	name := r.PathValue("name")
	res, err := p.TestChannel(r.Context(), name)
	if pipeline.IsUnknownChannel(err) {
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no channel named " + strconv.Quote(name)})
		return
	}
	ans := testAnswer{OK: err == nil, Result: res}
	if err != nil {
		ans.Error = err.Error()
		ans.Kind = channels.KindOf(err)
	}
	intake.WriteJSON(w, http.StatusOK, ans)
}

func dataURI(contentType string, b []byte) string {
	return "data:" + contentType + ";base64," + base64.StdEncoding.EncodeToString(b)
}
