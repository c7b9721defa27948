package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/karana-project/karana/pkg/grafana"
)

const digestKey = "karanaCredentialDigest"

func (r *run) wantDataSource(n names, password string) grafana.DataSource {
	return grafana.DataSource{
		Name: DataSourceName, Type: "influxdb", Access: "proxy", URL: r.s.cfg.DataSourceURL,
		User: n.InfluxUser, Database: n.Database, IsDefault: true,
		JSONData: map[string]any{
			"dbName": n.Database, "httpMode": "POST",
			digestKey: credentialDigest(n.InfluxUser, password),
		},
		SecureJSONData: map[string]string{"password": password},
	}
}

// ensureDataSource returns the data source's uid.
func (r *run) ensureDataSource(ctx context.Context, orgID int64, n names, password string) (string, error) {
	g := r.s.grafana
	want := r.wantDataSource(n, password)
	got, err := g.DataSourceByName(ctx, orgID, want.Name)
	if errors.Is(err, grafana.ErrNotFound) {
		r.changed = true
		var created grafana.DataSource
		created, err = g.CreateDataSource(ctx, orgID, want)
		if err == nil {
			return created.UID, nil
		}
		if !errors.Is(err, grafana.ErrConflict) {
			return "", fmt.Errorf("creating grafana data source in org %d: %w", orgID, err)
		}
		got, err = g.DataSourceByName(ctx, orgID, want.Name)
	}
	if err != nil {
		return "", fmt.Errorf("looking up grafana data source in org %d: %w", orgID, err)
	}
	if dataSourceMatches(got, want) {
		return got.UID, nil
	}
	r.changed = true
	want.UID, want.Version = got.UID, got.Version
	if err := g.UpdateDataSource(ctx, orgID, got.UID, want); err != nil {
		return "", fmt.Errorf("updating grafana data source %s in org %d: %w", got.UID, orgID, err)
	}
	return got.UID, nil
}

func dataSourceMatches(got, want grafana.DataSource) bool {
	if got.Type != want.Type || got.Access != want.Access || got.URL != want.URL || got.User != want.User ||
		got.Database != want.Database || got.IsDefault != want.IsDefault || got.BasicAuth != want.BasicAuth ||
		!got.SecureJSONFields["password"] {
		return false
	}
	// Only the keys the sync sets are compared: Grafana may add its own.
	for k, v := range want.JSONData {
		if fmt.Sprint(got.JSONData[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}
