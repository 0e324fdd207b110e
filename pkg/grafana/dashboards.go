package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/client/search"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// Dashboard is a dashboard read from Grafana, always as a classic (schema v1)
// JSON model: a dashboard stored in schema v2 is converted (see v2.go).
type Dashboard struct {
	UID   string
	Title string
	// Model is the classic dashboard JSON. It is freshly decoded for every
	// call, so callers may modify it.
	Model     map[string]any
	FolderUID string
	Slug      string
	Version   int64
	// APIVersion is empty for the legacy API, else the /apis version the
	// dashboard was read with, e.g. "dashboard.grafana.app/v2beta1".
	APIVersion string
}

// GetDashboard reads a dashboard through /api/dashboards/uid/<uid>. When
// Grafana answers 406 (the dashboard is stored in schema v2, which the legacy
// API refuses), it reads it through /apis/dashboard.grafana.app instead.
func (c *Client) GetDashboard(ctx context.Context, uid string) (*Dashboard, error) {
	if uid == "" {
		return nil, errors.New("read dashboard: no dashboard UID given")
	}
	op := fmt.Sprintf("read dashboard %q", uid)
	ok, err := c.api.Dashboards.GetDashboardByUIDWithParams(
		dashboards.NewGetDashboardByUIDParams().WithContext(ctx).WithUID(uid))
	if err != nil {
		var na *dashboards.GetDashboardByUIDNotAcceptable
		if errors.As(err, &na) {
			hint := ""
			if p := na.GetPayload(); p != nil && p.Message != nil {
				hint = *p.Message
			}
			return c.getDashboardResource(ctx, uid, hint)
		}
		return nil, apiErr(op, err)
	}
	p := ok.GetPayload()
	if p == nil {
		return nil, fmt.Errorf("%s: Grafana sent an empty answer", op)
	}
	model, isMap := p.Dashboard.(map[string]any)
	if !isMap {
		return nil, fmt.Errorf("%s: Grafana sent a dashboard that is not a JSON object", op)
	}
	d := &Dashboard{UID: uid, Model: model}
	d.Title, _ = model["title"].(string)
	if p.Meta != nil {
		d.FolderUID, d.Slug, d.Version = p.Meta.FolderUID, p.Meta.Slug, p.Meta.Version
	}
	if _, v2 := model["elements"]; v2 {
		// A Grafana with the apiVersion query parameter may hand out v2 JSON
		// here; convert it like a resource read.
		return dashboardFromV2(uid, model, d.FolderUID, "")
	}
	return d, nil
}

// GetPanel returns a copy of one panel of a dashboard as a classic panel JSON
// object (type, targets, fieldConfig, options…), found by its id. Panels
// inside collapsed rows are found too. Works for schema v1 and v2
// dashboards (v2 elements are converted as faithfully as possible).
func (c *Client) GetPanel(ctx context.Context, dashboardUID string, panelID int64) (map[string]any, error) {
	d, err := c.GetDashboard(ctx, dashboardUID)
	if err != nil {
		return nil, err
	}
	return d.Panel(panelID)
}

// Panel finds a panel by id in the dashboard model.
func (d *Dashboard) Panel(panelID int64) (map[string]any, error) {
	if p := findPanel(d.Model["panels"], panelID); p != nil {
		if _, lib := p["libraryPanel"]; lib && p["targets"] == nil && p["fieldConfig"] == nil {
			return nil, fmt.Errorf("panel %d of dashboard %q is a library panel; AlertChart cannot use library panels as templates: "+
				"unlink it in the dashboard or pick a regular panel", panelID, d.UID)
		}
		return p, nil
	}
	return nil, fmt.Errorf("dashboard %q (%q) has no panel with id %d; open the panel in Grafana and take the id from "+
		"the viewPanel= or editPanel= URL parameter", d.UID, d.Title, panelID)
}

func findPanel(v any, id int64) map[string]any {
	list, _ := v.([]any)
	for _, x := range list {
		p, _ := x.(map[string]any)
		if p == nil {
			continue
		}
		if n, ok := toInt64(p["id"]); ok && n == id && p["type"] != "row" {
			return p
		}
		if nested := findPanel(p["panels"], id); nested != nil {
			return nested
		}
	}
	return nil
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), float64(int64(n)) == n
	case int:
		return int64(n), true
	case int64:
		return n, true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// Created describes a dashboard Grafana stored.
type Created struct {
	UID     string
	URL     string
	Slug    string
	Version int64
}

// CreateDashboard stores a new classic dashboard in a folder. It never
// overwrites: when the UID is taken the error wraps ErrUIDClash (Grafana
// answers 412 "version-mismatch" or 400 "same uid" from its legacy store,
// 409 Conflict from unified storage).
func (c *Client) CreateDashboard(ctx context.Context, model map[string]any, folderUID, message string) (Created, error) {
	uid, _ := model["uid"].(string)
	op := fmt.Sprintf("create dashboard %q in folder %q", uid, folderUID)
	ok, err := c.api.Dashboards.PostDashboardWithParams(dashboards.NewPostDashboardParams().WithContext(ctx).
		WithBody(&models.SaveDashboardCommand{Dashboard: model, FolderUID: folderUID, Overwrite: false, Message: message}))
	if err != nil {
		e := apiErr(op, err)
		var ae *APIError
		if errors.As(e, &ae) && isUIDClash(ae) {
			return Created{}, fmt.Errorf("%w: %w", ErrUIDClash, e)
		}
		return Created{}, e
	}
	p := ok.GetPayload()
	out := Created{UID: uid}
	if p != nil {
		if p.UID != nil && *p.UID != "" {
			out.UID = *p.UID
		}
		if p.URL != nil {
			out.URL = *p.URL
		}
		if p.Version != nil {
			out.Version = *p.Version
		}
	}
	out.Slug = slugFromURL(out.URL)
	return out, nil
}

func isUIDClash(ae *APIError) bool {
	switch ae.Status {
	case http.StatusConflict:
		return true
	case http.StatusPreconditionFailed:
		return strings.Contains(ae.Message, "version-mismatch") || strings.Contains(ae.Message, "changed by someone else")
	case http.StatusBadRequest:
		return strings.Contains(strings.ToLower(ae.Message), "same uid already exists")
	}
	return false
}

// slugFromURL takes the slug from "/d/<uid>/<slug>".
func slugFromURL(u string) string {
	parts := strings.Split(strings.Trim(u, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "d" {
			return parts[i+2]
		}
	}
	return ""
}

// DeleteDashboard deletes a dashboard by UID. A dashboard that is already
// gone yields an error for which IsNotFound is true.
func (c *Client) DeleteDashboard(ctx context.Context, uid string) error {
	if uid == "" {
		return errors.New("delete dashboard: no UID given")
	}
	_, err := c.api.Dashboards.DeleteDashboardByUIDWithParams(
		dashboards.NewDeleteDashboardByUIDParams().WithContext(ctx).WithUID(uid))
	return apiErr(fmt.Sprintf("delete dashboard %q", uid), err)
}

// EnsureFolder makes sure a folder with this UID exists, creating it with
// the title when missing. A concurrent creation by someone else is fine.
func (c *Client) EnsureFolder(ctx context.Context, uid, title string) error {
	if uid == "" {
		return errors.New("ensure folder: no folder UID given")
	}
	_, err := c.api.Folders.GetFolderByUIDWithParams(folders.NewGetFolderByUIDParams().WithContext(ctx).WithFolderUID(uid))
	if err == nil {
		return nil
	}
	err = apiErr(fmt.Sprintf("read folder %q", uid), err)
	if !IsNotFound(err) {
		return err
	}
	_, err = c.api.Folders.CreateFolderWithParams(folders.NewCreateFolderParams().WithContext(ctx).
		WithBody(&models.CreateFolderCommand{UID: uid, Title: title,
			Description: "Temporary dashboards AlertChart renders alert charts from; they are deleted after rendering."}))
	if err != nil {
		err = apiErr(fmt.Sprintf("create folder %q", uid), err)
		if StatusOf(err) == http.StatusConflict {
			return nil
		}
		return err
	}
	return nil
}

// Hit is one search result.
type Hit struct {
	UID       string
	Title     string
	Tags      []string
	FolderUID string
	URL       string
}

// SearchDashboards lists dashboards carrying a tag, optionally only in one
// folder, page by page.
func (c *Client) SearchDashboards(ctx context.Context, tag, folderUID string) ([]Hit, error) {
	const pageSize = 500
	var out []Hit
	for page := int64(1); page <= 100; page++ {
		limit, pg, typ := int64(pageSize), page, "dash-db"
		params := search.NewSearchParams().WithContext(ctx).WithType(&typ).WithLimit(&limit).WithPage(&pg)
		if tag != "" {
			params = params.WithTag([]string{tag})
		}
		if folderUID != "" {
			params = params.WithFolderUIDs([]string{folderUID})
		}
		ok, err := c.api.Search.Search(params)
		if err != nil {
			return nil, apiErr(fmt.Sprintf("search dashboards tagged %q", tag), err)
		}
		hits := ok.GetPayload()
		for _, h := range hits {
			if h == nil {
				continue
			}
			out = append(out, Hit{UID: h.UID, Title: h.Title, Tags: h.Tags, FolderUID: h.FolderUID, URL: h.URL})
		}
		if len(hits) < pageSize {
			break
		}
	}
	return out, nil
}
