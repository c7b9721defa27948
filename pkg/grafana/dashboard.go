package grafana

import (
	"context"
	"net/http"
	"net/url"
)

// Dashboard is GET /api/dashboards/uid/:uid: the JSON model as Grafana
// stores it, and its metadata.
type Dashboard struct {
	Dashboard map[string]any `json:"dashboard"`
	Meta      DashboardMeta  `json:"meta"`
}

// DashboardMeta is the part of the metadata the sync reads.
type DashboardMeta struct {
	URL       string `json:"url"`
	FolderUID string `json:"folderUid"`
	Version   int    `json:"version"`
}

// SavedDashboard is the answer of POST /api/dashboards/db.
type SavedDashboard struct {
	ID      int64  `json:"id"`
	UID     string `json:"uid"`
	URL     string `json:"url"`
	Version int    `json:"version"`
}

// DashboardByUID reads a dashboard of an organisation; ErrNotFound when
// there is none.
func (c *Client) DashboardByUID(ctx context.Context, orgID int64, uid string) (Dashboard, error) {
	var d Dashboard
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/dashboards/uid/" + url.PathEscape(uid), orgID: orgID, out: &d})
	return d, err
}

// SaveDashboard creates or replaces (overwrite) the dashboard whose model
// carries that uid, in the organisation's General folder.
func (c *Client) SaveDashboard(ctx context.Context, orgID int64, model map[string]any, message string) (SavedDashboard, error) {
	var out SavedDashboard
	in := map[string]any{"dashboard": model, "overwrite": true, "message": message}
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/dashboards/db", orgID: orgID, in: in, out: &out})
	return out, err
}
