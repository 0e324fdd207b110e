package grafanarender

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/grafana"
)

// The life of a chart's temporary dashboard in Grafana: reading the template
// it is cloned from, its folder, its creation under a fresh UID and its
// deletion (dashboard.go builds its model).

// uidPrefix starts every temporary dashboard UID: "act-<unix seconds,
// base 36>-<random>"; the janitor reads the creation time from it.
const uidPrefix = "act-"

// template reads the template dashboard and panel, reusing a recent read.
func (r *Renderer) template(ctx context.Context) (*template, error) {
	r.tmplMu.Lock()
	defer r.tmplMu.Unlock()
	if r.tmpl != nil && r.now().Before(r.tmplExpires) {
		return r.tmpl, nil
	}
	d, err := r.client.GetDashboard(ctx, r.opts.TemplateDashboardUID)
	if err != nil {
		return nil, err
	}
	p, err := d.Panel(r.opts.TemplatePanelID)
	if err != nil {
		return nil, err
	}
	r.tmpl = &template{dash: d, panel: p}
	r.tmplExpires = r.now().Add(r.opts.TemplateTTL)
	return r.tmpl, nil
}

func (r *Renderer) ensureFolder(ctx context.Context) error {
	r.folderMu.Lock()
	defer r.folderMu.Unlock()
	if r.folderReady {
		return nil
	}
	if err := r.client.EnsureFolder(ctx, r.opts.FolderUID, "AlertChart temporary"); err != nil {
		return err
	}
	r.folderReady = true
	return nil
}

// create stores the temporary dashboard, picking a new UID when the UID is
// taken, and recreating the folder once if someone deleted it.
func (r *Renderer) create(ctx context.Context, tmpl *template, req Request) (grafana.Created, error) {
	const attempts = 4
	var lastErr error
	folderRetried := false
	for i := 0; i < attempts; i++ {
		uid := r.newUID(r.now())
		model := buildDashboard(uid, tmpl, req)
		c, err := r.client.CreateDashboard(ctx, model, r.opts.FolderUID, "AlertChart: temporary copy of a template panel for one alert chart")
		if err == nil {
			if c.UID == "" {
				c.UID = uid
			}
			return c, nil
		}
		lastErr = err
		switch {
		case errors.Is(err, grafana.ErrUIDClash):
			continue
		case !folderRetried && folderMissing(err):
			folderRetried = true
			r.folderMu.Lock()
			r.folderReady = false
			r.folderMu.Unlock()
			if ferr := r.ensureFolder(ctx); ferr != nil {
				return grafana.Created{}, ferr
			}
			continue
		default:
			return grafana.Created{}, err
		}
	}
	return grafana.Created{}, fmt.Errorf("gave up after %d UID clashes: %w", attempts, lastErr)
}

// folderMissing recognises Grafana's answers to a create in a folder that no
// longer exists (400 from the legacy store, 404 from newer versions).
func folderMissing(err error) bool {
	st := grafana.StatusOf(err)
	return (st == http.StatusBadRequest || st == http.StatusNotFound) && strings.Contains(strings.ToLower(err.Error()), "folder not found")
}

// remove deletes the temporary dashboard with a context of its own: a
// cancelled render must not leave its copy behind.
func (r *Renderer) remove(ctx context.Context, uid string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := r.client.DeleteDashboard(dctx, uid); err != nil && !grafana.IsNotFound(err) {
		r.opts.Logger.Warn("AlertChart could not delete a temporary dashboard; the janitor will remove it",
			"uid", uid, "error", err.Error())
	}
}

// randomUID makes "act-<base36 seconds>-<12 random base32 chars>" (≤ 30
// characters; Grafana allows 40).
func randomUID(now time.Time) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return uidPrefix + strconv.FormatInt(now.Unix(), 36) + "-" + string(b)
}

// uidTime reads the creation time out of a temporary dashboard UID.
func uidTime(uid string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(uid, uidPrefix)
	if !ok {
		return time.Time{}, false
	}
	ts, _, ok := strings.Cut(rest, "-")
	if !ok {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(ts, 36, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}
