package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The dashboard resource API. Grafana 12+ serves dashboards as Kubernetes-
// style resources; a dashboard stored in schema v2 ("dynamic dashboards", the
// default in Grafana 13) is only readable there.
const dashboardGroup = "dashboard.grafana.app"

// apisPathRE finds the resource path Grafana names in its 406 answer:
// "dashboard api version not supported, use /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/<uid> instead".
var apisPathRE = regexp.MustCompile(`/apis/dashboard\.grafana\.app/([a-z0-9]+)/namespaces/([A-Za-z0-9._-]+)/dashboards/`)

type resource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
		Generation  int64             `json:"generation"`
	} `json:"metadata"`
	Spec   map[string]any `json:"spec"`
	Status struct {
		Conversion *struct {
			Failed        bool   `json:"failed"`
			Error         string `json:"error"`
			StoredVersion string `json:"storedVersion"`
		} `json:"conversion"`
	} `json:"status"`
}

// getDashboardResource reads a dashboard through the resource API. The
// version named in the 406 message (the stored one) is tried first, then the
// versions Grafana announces, v2 before classic, newest first.
func (c *Client) getDashboardResource(ctx context.Context, uid, hint string) (*Dashboard, error) {
	op := fmt.Sprintf("read dashboard %q through /apis/%s", uid, dashboardGroup)
	var versions []string
	ns := c.creds.Namespace
	if m := apisPathRE.FindStringSubmatch(hint); m != nil {
		versions = append(versions, m[1])
		ns = m[2]
	}
	var errs []string
	tried := map[string]bool{}
	try := func(v string) (*Dashboard, bool) {
		if tried[v] {
			return nil, false
		}
		tried[v] = true
		d, err := c.readResource(ctx, v, ns, uid)
		if err != nil {
			errs = append(errs, v+": "+err.Error())
			if s := StatusOf(err); s == http.StatusUnauthorized || s == http.StatusForbidden {
				return nil, true // no point trying other versions
			}
			return nil, false
		}
		return d, true
	}
	for _, v := range versions {
		if d, stop := try(v); d != nil {
			return d, nil
		} else if stop {
			return nil, fmt.Errorf("%s: %s", op, strings.Join(errs, "; "))
		}
	}
	discovered, err := c.dashboardVersions(ctx)
	if err != nil {
		errs = append(errs, err.Error())
	}
	for _, v := range discovered {
		if d, stop := try(v); d != nil {
			return d, nil
		} else if stop {
			break
		}
	}
	if len(errs) == 0 {
		errs = append(errs, "Grafana announced no versions of "+dashboardGroup)
	}
	return nil, fmt.Errorf("%s: the dashboard is stored in a schema the legacy API refuses (406) and no resource version could be read: %s",
		op, strings.Join(errs, "; "))
}

// dashboardVersions asks /apis/dashboard.grafana.app which versions Grafana
// serves, ordered v2 first (the stored form of dynamic dashboards, no lossy
// conversion), then classic; newest first within each.
func (c *Client) dashboardVersions(ctx context.Context) ([]string, error) {
	b, _, err := c.do(ctx, "discover dashboard API versions", http.MethodGet, "/apis/"+dashboardGroup, nil, nil, maxJSONBytes)
	if err != nil {
		return nil, err
	}
	var group struct {
		Versions []struct {
			Version string `json:"version"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(b, &group); err != nil {
		return nil, fmt.Errorf("discover dashboard API versions: unexpected answer: %v", err)
	}
	var vs []string
	for _, v := range group.Versions {
		if v.Version != "" {
			vs = append(vs, v.Version)
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return versionRank(vs[i]) > versionRank(vs[j]) })
	return vs, nil
}

// versionRank orders Kubernetes API versions: major first, v2 above v1, and
// GA above beta above alpha.
func versionRank(v string) int {
	var major, minor int
	stage := 3
	rest := strings.TrimPrefix(v, "v")
	n, _ := fmt.Sscanf(rest, "%d", &major)
	if n == 0 {
		return -1
	}
	rest = strings.TrimLeft(rest, "0123456789")
	switch {
	case strings.HasPrefix(rest, "beta"):
		stage = 2
		minor = leadingInt(strings.TrimPrefix(rest, "beta"))
	case strings.HasPrefix(rest, "alpha"):
		stage = 1
		minor = leadingInt(strings.TrimPrefix(rest, "alpha"))
	}
	return major*10000 + stage*1000 + minor
}

func (c *Client) readResource(ctx context.Context, version, ns, uid string) (*Dashboard, error) {
	p := fmt.Sprintf("/apis/%s/%s/namespaces/%s/dashboards/%s", dashboardGroup, version, ns, uid)
	b, _, err := c.do(ctx, "read "+p, http.MethodGet, p, nil, nil, maxJSONBytes)
	if err != nil {
		return nil, err
	}
	var r resource
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read %s: unexpected answer: %v", p, err)
	}
	if cv := r.Status.Conversion; cv != nil && cv.Failed {
		return nil, fmt.Errorf("Grafana could not convert the dashboard from %s to %s: %s", cv.StoredVersion, version, cv.Error)
	}
	if r.Spec == nil {
		return nil, fmt.Errorf("read %s: the resource has no spec", p)
	}
	folder := r.Metadata.Annotations["grafana.app/folder"]
	if _, ok := r.Spec["elements"]; ok {
		return dashboardFromV2(uid, r.Spec, folder, r.APIVersion)
	}
	if _, ok := r.Spec["panels"]; !ok {
		return nil, fmt.Errorf("read %s: the spec has neither panels (v1) nor elements (v2)", p)
	}
	d := &Dashboard{UID: uid, Model: r.Spec, FolderUID: folder, Version: r.Metadata.Generation, APIVersion: r.APIVersion}
	d.Title, _ = r.Spec["title"].(string)
	d.Model["uid"] = uid
	return d, nil
}

// dashboardFromV2 converts a schema v2 spec into a classic model holding the
// converted panels (layout is dropped: AlertChart renders one panel alone).
func dashboardFromV2(uid string, spec map[string]any, folderUID, apiVersion string) (*Dashboard, error) {
	elements, _ := spec["elements"].(map[string]any)
	keys := make([]string, 0, len(elements))
	for k := range elements {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	panels := make([]any, 0, len(keys))
	var problems []string
	for _, k := range keys {
		el, _ := elements[k].(map[string]any)
		p, err := PanelFromV2Element(el)
		if err != nil {
			problems = append(problems, k+": "+err.Error())
			continue
		}
		panels = append(panels, p)
	}
	title, _ := spec["title"].(string)
	model := map[string]any{"uid": uid, "title": title, "panels": panels, "schemaVersion": float64(41)}
	for _, k := range []string{"description", "tags", "timeSettings"} {
		if v, ok := spec[k]; ok {
			model[k] = v
		}
	}
	if ts, ok := spec["timeSettings"].(map[string]any); ok {
		if tz, ok := ts["timezone"].(string); ok {
			model["timezone"] = tz
		}
	}
	if len(panels) == 0 && len(problems) > 0 {
		return nil, fmt.Errorf("dashboard %q (schema v2) has no panel AlertChart can use: %s", uid, strings.Join(problems, "; "))
	}
	return &Dashboard{UID: uid, Title: title, Model: model, FolderUID: folderUID, APIVersion: apiVersion}, nil
}

// PanelFromV2Element converts one schema v2 element ({"kind":"Panel","spec":
// {...}}) into a classic panel. Both the v2alpha1 shape (vizConfig.kind =
// plugin id, query.kind = data source type) and the v2beta1/v2 shape
// (vizConfig.group, query.group, query.datasource.name) are understood. A
// library panel becomes a classic library-panel reference.
func PanelFromV2Element(el map[string]any) (map[string]any, error) {
	kind, _ := el["kind"].(string)
	spec, _ := el["spec"].(map[string]any)
	switch kind {
	case "Panel":
	case "LibraryPanel":
		// Classic dashboards reference library panels the same way: id,
		// title and the libraryPanel link, without a model of their own.
		if spec == nil || spec["id"] == nil {
			return nil, errors.New("library panel without id")
		}
		return map[string]any{"id": spec["id"], "title": spec["title"], "libraryPanel": spec["libraryPanel"]}, nil
	default:
		return nil, fmt.Errorf("element kind %q is not a panel", kind)
	}
	if spec == nil {
		return nil, errors.New("panel without spec")
	}
	p := map[string]any{}
	for _, k := range []string{"id", "title", "description", "links", "transparent"} {
		if v, ok := spec[k]; ok {
			p[k] = v
		}
	}
	if _, ok := p["id"]; !ok {
		return nil, errors.New("panel without id")
	}

	viz, _ := spec["vizConfig"].(map[string]any)
	if viz != nil {
		vspec, _ := viz["spec"].(map[string]any)
		pluginID, _ := viz["group"].(string)
		pluginVersion, _ := viz["version"].(string)
		if pluginID == "" {
			// v2alpha1: kind is the plugin id, version lives in spec.
			pluginID, _ = viz["kind"].(string)
			if vspec != nil {
				pluginVersion, _ = vspec["pluginVersion"].(string)
			}
		}
		if pluginID == "" || pluginID == "VizConfig" {
			return nil, errors.New("panel without visualization type")
		}
		p["type"] = pluginID
		if pluginVersion != "" {
			p["pluginVersion"] = pluginVersion
		}
		if vspec != nil {
			if v, ok := vspec["options"]; ok {
				p["options"] = v
			}
			if v, ok := vspec["fieldConfig"]; ok {
				p["fieldConfig"] = v
			}
		}
	} else {
		return nil, errors.New("panel without vizConfig")
	}

	data, _ := spec["data"].(map[string]any)
	dspec, _ := data["spec"].(map[string]any)
	var targets []any
	var panelDS map[string]any
	queries, _ := dspec["queries"].([]any)
	for _, q := range queries {
		qm, _ := q.(map[string]any)
		qspec, _ := qm["spec"].(map[string]any)
		if qspec == nil {
			continue
		}
		t := map[string]any{}
		inner, _ := qspec["query"].(map[string]any)
		if is, ok := inner["spec"].(map[string]any); ok {
			for k, v := range is {
				t[k] = v
			}
		}
		if ref, ok := qspec["refId"]; ok {
			t["refId"] = ref
		}
		if h, ok := qspec["hidden"].(bool); ok && h {
			t["hide"] = true
		}
		ds := map[string]any{}
		if d, ok := qspec["datasource"].(map[string]any); ok { // v2alpha1
			for k, v := range d {
				ds[k] = v
			}
		}
		if g, ok := inner["group"].(string); ok && g != "" { // v2beta1
			ds["type"] = g
		} else if k, ok := inner["kind"].(string); ok && k != "" && k != "DataQuery" {
			ds["type"] = k
		}
		if d, ok := inner["datasource"].(map[string]any); ok {
			if n, ok := d["name"].(string); ok && n != "" {
				ds["uid"] = n
			}
		}
		if len(ds) > 0 {
			t["datasource"] = ds
			if panelDS == nil {
				panelDS = ds
			}
		}
		targets = append(targets, t)
	}
	p["targets"] = targets
	if panelDS != nil {
		p["datasource"] = panelDS
	}

	if trs, ok := dspec["transformations"].([]any); ok {
		var out []any
		for _, tr := range trs {
			tm, _ := tr.(map[string]any)
			ts, _ := tm["spec"].(map[string]any)
			if ts == nil {
				continue
			}
			c := map[string]any{}
			for k, v := range ts {
				c[k] = v
			}
			if _, ok := c["id"]; !ok {
				if k, ok := tm["kind"].(string); ok {
					c["id"] = k
				}
			}
			out = append(out, c)
		}
		if len(out) > 0 {
			p["transformations"] = out
		}
	}
	if qo, ok := dspec["queryOptions"].(map[string]any); ok {
		for _, k := range []string{"interval", "maxDataPoints", "cacheTimeout", "queryCachingTTL"} {
			if v, ok := qo[k]; ok {
				p[k] = v
			}
		}
	}
	return p, nil
}

// leadingInt is the number s starts with ("1" of "1.2"), 0 when none.
func leadingInt(s string) int {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0
	}
	return n
}
