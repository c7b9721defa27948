package server

import (
	"net/http"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/resource"
	"github.com/karana-project/karana/pkg/api/store"
)

// secretField is the generated secret a record's owner can regenerate.
const secretField = "password_influx"

// handleRegenerate: POST /v1/{res}/{id}/password_influx gives the record a
// new random password_influx (owner or admin) and answers the record. The
// record is then out of sync: the next sync sets the new password in
// InfluxDB (and, for a user, Grafana), after which the old one is refused.
func (s *Server) handleRegenerate(w http.ResponseWriter, r *http.Request, c Caller) error {
	def, e, err := s.record(r, c)
	if err != nil {
		return err
	}
	f := def.Lookup(secretField)
	if f == nil || f.System != resource.GenSecret {
		return apierr.NotFound("%s have no generated %s", def.Name, secretField)
	}
	secret := resource.Secret(16)
	err = s.update(def, e.ID, "regenerate "+secretField+" of "+def.Name+" "+e.ID, func(cur map[string]any) (map[string]any, error) {
		owner, _ := cur[def.Owner].(string)
		if err := access(c, def, owner); err != nil {
			return nil, err
		}
		return resource.Merge(cur, map[string]any{secretField: secret}), nil
	})
	if err != nil {
		return err
	}
	e, _ = s.Store.Get(def.Name, e.ID)
	writeRecords(w, http.StatusOK, []*store.Entry{e})
	return nil
}
