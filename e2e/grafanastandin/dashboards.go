package grafanastandin

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Dashboard is a saved dashboard: its JSON model as the client sent it,
// with id, uid and version kept in step by the stand-in.
type Dashboard struct {
	ID        int64          `json:"id"`
	UID       string         `json:"uid"`
	OrgID     int64          `json:"orgId"`
	Title     string         `json:"title"`
	FolderUID string         `json:"folderUid"`
	Version   int            `json:"version"`
	Created   time.Time      `json:"created"`
	Updated   time.Time      `json:"updated"`
	Model     map[string]any `json:"model"`
}

func (s *Server) dashboardRoutes() {
	s.handle("POST /api/dashboards/db", orgEditor, s.saveDashboard)
	s.handle("GET /api/dashboards/uid/{uid}", orgViewer, s.getDashboard)
	s.handle("DELETE /api/dashboards/uid/{uid}", orgEditor, s.deleteDashboard)
}

// Grafana's rule for dashboard uids: at most 40 characters of
// letters, digits, '-' and '_'.
var validUID = regexp.MustCompile(`^[a-zA-Z0-9\-_]{1,40}$`)

type saveInput struct {
	Dashboard map[string]any `json:"dashboard"`
	FolderUID string         `json:"folderUid"`
	Message   string         `json:"message"`
	Overwrite bool           `json:"overwrite"`
}

func (s *Server) findDashboard(orgID int64, match func(*Dashboard) bool) *Dashboard {
	for _, d := range s.st.Dashboards {
		if d.OrgID == orgID && match(d) {
			return d
		}
	}
	return nil
}

// saveDashboard is POST /api/dashboards/db: create, or update the
// dashboard with the model's uid (or id). Without overwrite, a version
// other than the stored one is refused (412 version-mismatch), and so is a
// second dashboard with the same title in the folder (412 name-exists).
func (s *Server) saveDashboard(c *caller, w http.ResponseWriter, r *http.Request) bool {
	var in saveInput
	if !decode(w, r, &in) {
		return false
	}
	if in.Dashboard == nil {
		writeError(w, http.StatusBadRequest, "bad request data: dashboard is missing")
		return false
	}
	title, _ := in.Dashboard["title"].(string)
	title = strings.TrimSpace(title)
	if title == "" {
		writeError(w, http.StatusBadRequest, "Dashboard title cannot be empty")
		return false
	}
	uid, _ := in.Dashboard["uid"].(string)
	if uid != "" && !validUID.MatchString(uid) {
		writeError(w, http.StatusBadRequest, "uid contains illegal characters or is longer than 40 characters")
		return false
	}
	var existing *Dashboard
	if uid != "" {
		existing = s.findDashboard(c.orgID, func(d *Dashboard) bool { return d.UID == uid })
	} else if id, ok := in.Dashboard["id"].(float64); ok && id > 0 {
		existing = s.findDashboard(c.orgID, func(d *Dashboard) bool { return d.ID == int64(id) })
		if existing == nil {
			writeError(w, http.StatusNotFound, "Dashboard not found")
			return false
		}
	}
	if same := s.findDashboard(c.orgID, func(d *Dashboard) bool {
		return d != existing && d.FolderUID == in.FolderUID && strings.EqualFold(d.Title, title)
	}); same != nil {
		if !in.Overwrite {
			writeJSON(w, http.StatusPreconditionFailed, map[string]any{"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"})
			return false
		}
		delete(s.st.Dashboards, same.ID) // overwrite replaces the other dashboard, as Grafana does
	}
	if existing != nil && !in.Overwrite {
		if v, _ := in.Dashboard["version"].(float64); int(v) != existing.Version {
			writeJSON(w, http.StatusPreconditionFailed, map[string]any{"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
			return false
		}
	}
	now := time.Now().UTC()
	d := existing
	if d == nil {
		if uid == "" {
			uid = newUID()
		}
		d = &Dashboard{ID: s.st.NextDashboardID, UID: uid, OrgID: c.orgID, Created: now}
		s.st.NextDashboardID++
		s.st.Dashboards[d.ID] = d
	}
	d.Title, d.FolderUID, d.Updated = title, in.FolderUID, now
	d.Version++
	d.Model = copyJSON(in.Dashboard)
	d.Model["id"], d.Model["uid"], d.Model["version"], d.Model["title"] = d.ID, d.UID, d.Version, d.Title
	writeJSON(w, http.StatusOK, map[string]any{"id": d.ID, "uid": d.UID, "url": dashboardURL(d), "status": "success",
		"version": d.Version, "slug": slug(d.Title)})
	return true
}

func (s *Server) getDashboard(c *caller, w http.ResponseWriter, r *http.Request) bool {
	uid := r.PathValue("uid")
	d := s.findDashboard(c.orgID, func(d *Dashboard) bool { return d.UID == uid })
	if d == nil {
		writeError(w, http.StatusNotFound, "Dashboard not found")
		return false
	}
	canSave := c.role == RoleEditor || c.role == RoleAdmin
	writeJSON(w, http.StatusOK, map[string]any{
		"dashboard": d.Model,
		"meta": map[string]any{"type": "db", "canSave": canSave, "canEdit": canSave, "canAdmin": c.role == RoleAdmin,
			"slug": slug(d.Title), "url": dashboardURL(d), "folderUid": d.FolderUID, "folderId": 0,
			"version": d.Version, "created": d.Created, "updated": d.Updated, "provisioned": false},
	})
	return false
}

func (s *Server) deleteDashboard(c *caller, w http.ResponseWriter, r *http.Request) bool {
	uid := r.PathValue("uid")
	d := s.findDashboard(c.orgID, func(d *Dashboard) bool { return d.UID == uid })
	if d == nil {
		writeError(w, http.StatusNotFound, "Dashboard not found")
		return false
	}
	delete(s.st.Dashboards, d.ID)
	writeJSON(w, http.StatusOK, map[string]any{"title": d.Title, "message": "Dashboard " + d.Title + " deleted", "id": d.ID})
	return true
}

func dashboardURL(d *Dashboard) string { return "/d/" + d.UID + "/" + slug(d.Title) }

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(title string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(title), "-"), "-")
}
