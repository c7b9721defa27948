package grafanastandin

import (
	"crypto/rand"
	"net/http"
	"slices"
)

func (s *Server) dataSourceRoutes() {
	s.handle("GET /api/datasources", orgAdmin, s.listDataSources)
	s.handle("GET /api/datasources/name/{name}", orgAdmin, s.dataSourceByName)
	s.handle("GET /api/datasources/uid/{uid}", orgAdmin, s.dataSourceByUID)
	s.handle("POST /api/datasources", orgAdmin, s.createDataSource)
	s.handle("PUT /api/datasources/uid/{uid}", orgAdmin, s.updateDataSource)
	s.handle("DELETE /api/datasources/uid/{uid}", orgAdmin, s.deleteDataSource)
}

// dsInput is the body of POST and PUT.
type dsInput struct {
	UID            string            `json:"uid"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Access         string            `json:"access"`
	URL            string            `json:"url"`
	User           string            `json:"user"`
	Database       string            `json:"database"`
	BasicAuth      bool              `json:"basicAuth"`
	IsDefault      bool              `json:"isDefault"`
	JSONData       map[string]any    `json:"jsonData"`
	SecureJSONData map[string]string `json:"secureJsonData"`
	Version        int               `json:"version"`
}

func dsJSON(ds *DataSource) map[string]any {
	secure := map[string]bool{}
	for k := range ds.SecureJSONData {
		secure[k] = true
	}
	return map[string]any{
		"id": ds.ID, "uid": ds.UID, "orgId": ds.OrgID, "name": ds.Name, "type": ds.Type,
		"access": ds.Access, "url": ds.URL, "user": ds.User, "database": ds.Database,
		"basicAuth": ds.BasicAuth, "basicAuthUser": "", "withCredentials": false,
		"isDefault": ds.IsDefault, "jsonData": copyJSON(ds.JSONData), "secureJsonFields": secure,
		"version": ds.Version, "readOnly": false, "typeLogoUrl": "",
	}
}

func (s *Server) orgDataSources(orgID int64) []*DataSource {
	var out []*DataSource
	for _, ds := range s.st.DataSources {
		if ds.OrgID == orgID {
			out = append(out, ds)
		}
	}
	slices.SortFunc(out, func(a, b *DataSource) int { return int(a.ID - b.ID) })
	return out
}

func (s *Server) findDataSource(orgID int64, match func(*DataSource) bool) *DataSource {
	for _, ds := range s.orgDataSources(orgID) {
		if match(ds) {
			return ds
		}
	}
	return nil
}

func (s *Server) listDataSources(c *caller, w http.ResponseWriter, _ *http.Request) bool {
	out := []map[string]any{}
	for _, ds := range s.orgDataSources(c.orgID) {
		out = append(out, dsJSON(ds))
	}
	writeJSON(w, http.StatusOK, out)
	return false
}

func (s *Server) dataSourceByName(c *caller, w http.ResponseWriter, r *http.Request) bool {
	name := r.PathValue("name")
	s.writeDataSource(w, s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.Name == name }))
	return false
}

func (s *Server) dataSourceByUID(c *caller, w http.ResponseWriter, r *http.Request) bool {
	uid := r.PathValue("uid")
	s.writeDataSource(w, s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.UID == uid }))
	return false
}

func (s *Server) writeDataSource(w http.ResponseWriter, ds *DataSource) {
	if ds == nil {
		writeError(w, http.StatusNotFound, "Data source not found")
		return
	}
	writeJSON(w, http.StatusOK, dsJSON(ds))
}

func (s *Server) createDataSource(c *caller, w http.ResponseWriter, r *http.Request) bool {
	var in dsInput
	if !decode(w, r, &in) || !validDataSource(w, in) {
		return false
	}
	if s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.Name == in.Name }) != nil {
		writeError(w, http.StatusConflict, "data source with the same name already exists")
		return false
	}
	if in.UID == "" {
		in.UID = newUID()
	} else if s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.UID == in.UID }) != nil {
		writeError(w, http.StatusConflict, "data source with the same uid already exists")
		return false
	}
	ds := &DataSource{ID: s.st.NextDataSourceID, UID: in.UID, OrgID: c.orgID, Version: 1,
		SecureJSONData: map[string]string{}}
	s.st.NextDataSourceID++
	s.apply(ds, in)
	// The first data source of an org becomes its default, as in Grafana.
	if len(s.orgDataSources(c.orgID)) == 0 {
		ds.IsDefault = true
	}
	s.st.DataSources[ds.ID] = ds
	s.keepOneDefault(ds)
	writeJSON(w, http.StatusOK, map[string]any{"datasource": dsJSON(ds), "id": ds.ID, "name": ds.Name, "message": "Datasource added"})
	return true
}

func (s *Server) updateDataSource(c *caller, w http.ResponseWriter, r *http.Request) bool {
	uid := r.PathValue("uid")
	ds := s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.UID == uid })
	if ds == nil {
		writeError(w, http.StatusNotFound, "Data source not found")
		return false
	}
	var in dsInput
	if !decode(w, r, &in) || !validDataSource(w, in) {
		return false
	}
	if s.findDataSource(c.orgID, func(o *DataSource) bool { return o.Name == in.Name && o != ds }) != nil {
		writeError(w, http.StatusConflict, "data source with the same name already exists")
		return false
	}
	if in.Version != 0 && in.Version != ds.Version {
		writeError(w, http.StatusConflict, "Datasource has already been updated by someone else. Please reload and try again")
		return false
	}
	s.apply(ds, in)
	ds.Version++
	s.keepOneDefault(ds)
	writeJSON(w, http.StatusOK, map[string]any{"datasource": dsJSON(ds), "id": ds.ID, "name": ds.Name, "message": "Datasource updated"})
	return true
}

func (s *Server) deleteDataSource(c *caller, w http.ResponseWriter, r *http.Request) bool {
	uid := r.PathValue("uid")
	ds := s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.UID == uid })
	if ds == nil {
		writeError(w, http.StatusNotFound, "Data source not found")
		return false
	}
	delete(s.st.DataSources, ds.ID)
	msg(w, "Data source deleted")
	return true
}

func validDataSource(w http.ResponseWriter, in dsInput) bool {
	switch {
	case in.Name == "":
		writeError(w, http.StatusBadRequest, "Required field name is missing")
	case in.Type == "":
		writeError(w, http.StatusBadRequest, "Required field type is missing")
	case in.Access != "" && in.Access != "proxy" && in.Access != "direct":
		writeError(w, http.StatusBadRequest, "access must be proxy or direct")
	default:
		return true
	}
	return false
}

// apply copies the input onto ds. Secure fields are merged: a key that is
// not sent keeps its stored value, as in Grafana.
func (s *Server) apply(ds *DataSource, in dsInput) {
	ds.Name, ds.Type, ds.Access, ds.URL = in.Name, in.Type, in.Access, in.URL
	ds.User, ds.Database, ds.BasicAuth, ds.IsDefault = in.User, in.Database, in.BasicAuth, in.IsDefault
	if ds.Access == "" {
		ds.Access = "proxy"
	}
	ds.JSONData = copyJSON(in.JSONData)
	for k, v := range in.SecureJSONData {
		ds.SecureJSONData[k] = v
	}
}

func (s *Server) keepOneDefault(ds *DataSource) {
	if !ds.IsDefault {
		return
	}
	for _, o := range s.orgDataSources(ds.OrgID) {
		if o != ds {
			o.IsDefault = false
		}
	}
}

func newUID() string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 14)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
