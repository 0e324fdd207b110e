package grafanarender

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alertchart/alertchart/pkg/grafana"
)

// The janitor deletes the temporary dashboards a crash or a failed delete
// left behind, so they do not pile up in Grafana.

// DefaultJanitorAge is how old a temporary dashboard must be before the
// janitor deletes it: far longer than any render may take.
const DefaultJanitorAge = 10 * time.Minute

// Janitor deletes temporary dashboards older than olderThan: copies left
// behind when the plugin crashed between creating and deleting them, or when
// a delete failed. Only dashboards in the temporary folder, tagged Tag, with
// an AlertChart UID, are touched, and never the template.
func (r *Renderer) Janitor(ctx context.Context, olderThan time.Duration) (deleted int, err error) {
	if r.client == nil {
		return 0, errors.New("janitor: no Grafana client")
	}
	hits, err := r.client.SearchDashboards(ctx, Tag, r.opts.FolderUID)
	if err != nil {
		return 0, fmt.Errorf("janitor: %w", err)
	}
	now := r.now()
	var errs []error
	for _, h := range hits {
		if h.UID == r.opts.TemplateDashboardUID || (h.FolderUID != "" && h.FolderUID != r.opts.FolderUID) || !hasTag(h.Tags, Tag) {
			continue
		}
		created, ok := uidTime(h.UID)
		if !ok || now.Sub(created) < olderThan {
			continue
		}
		if err := r.client.DeleteDashboard(ctx, h.UID); err != nil {
			if grafana.IsNotFound(err) {
				continue // deleted meanwhile by its own render
			}
			errs = append(errs, err)
			continue
		}
		deleted++
	}
	if len(errs) > 0 {
		return deleted, fmt.Errorf("janitor: %w", errors.Join(errs...))
	}
	return deleted, nil
}

// RunJanitor runs Janitor now and then every interval until ctx ends,
// logging failures. Start it once per Renderer: go r.RunJanitor(ctx, 5*time.Minute, DefaultJanitorAge).
func (r *Renderer) RunJanitor(ctx context.Context, interval, olderThan time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		jctx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := r.Janitor(jctx, olderThan)
		cancel()
		if err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("AlertChart janitor could not clean temporary dashboards", "deleted", n, "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}
