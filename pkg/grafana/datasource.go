package grafana

import (
	"context"
	"net/http"
	"net/url"
)

// DataSource is a Grafana data source as the API sends and takes it.
// SecureJSONData is write-only: Grafana never returns it and reports which
// secure fields are set in SecureJSONFields.
type DataSource struct {
	ID               int64             `json:"id,omitempty"`
	UID              string            `json:"uid,omitempty"`
	OrgID            int64             `json:"orgId,omitempty"`
	Name             string            `json:"name"`
	Type             string            `json:"type"`
	Access           string            `json:"access"`
	URL              string            `json:"url"`
	User             string            `json:"user"`
	Database         string            `json:"database"`
	BasicAuth        bool              `json:"basicAuth"`
	IsDefault        bool              `json:"isDefault"`
	JSONData         map[string]any    `json:"jsonData,omitempty"`
	SecureJSONData   map[string]string `json:"secureJsonData,omitempty"`
	SecureJSONFields map[string]bool   `json:"secureJsonFields,omitempty"`
	Version          int               `json:"version,omitempty"`
}

// DataSourceByName looks a data source up in an organisation; ErrNotFound
// when there is none.
func (c *Client) DataSourceByName(ctx context.Context, orgID int64, name string) (DataSource, error) {
	var ds DataSource
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/datasources/name/" + url.PathEscape(name),
		orgID: orgID, out: &ds})
	return ds, err
}

// CreateDataSource adds a data source to an organisation and returns it as
// created (with id and uid); ErrConflict when the name exists there.
func (c *Client) CreateDataSource(ctx context.Context, orgID int64, ds DataSource) (DataSource, error) {
	var out struct {
		DataSource DataSource `json:"datasource"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/datasources", orgID: orgID, in: ds, out: &out})
	return out.DataSource, err
}

// UpdateDataSource replaces the data source with that uid.
func (c *Client) UpdateDataSource(ctx context.Context, orgID int64, uid string, ds DataSource) error {
	return c.do(ctx, request{method: http.MethodPut, path: "/api/datasources/uid/" + url.PathEscape(uid),
		orgID: orgID, in: ds})
}

// DeleteDataSource removes the data source with that uid.
func (c *Client) DeleteDataSource(ctx context.Context, orgID int64, uid string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/datasources/uid/" + url.PathEscape(uid), orgID: orgID})
}
