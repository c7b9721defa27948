package tenant

import (
	"fmt"
	"strconv"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/secrets"
)

// Login is where one service of a tenant is reached and with what.
type Login struct {
	URL      string `json:"url"`
	Login    string `json:"login"`
	Password string `json:"password"`
}

// Credentials are a tenant's three logins: its API's first admin (login as
// POST /v1/users/login takes it), Grafana's admin and InfluxDB's admin.
type Credentials struct {
	API      Login `json:"api"`
	Grafana  Login `json:"grafana"`
	InfluxDB Login `json:"influxdb"`
}

// URL is https://<host>.<domain>, with lb0's HTTPS port unless it is 443.
func URL(inv *inventory.Inventory, t inventory.Tenant, host string) string {
	u := "https://" + host + "." + t.Domain
	if p := inv.Balancers.Outer.HTTPSPort; p != 443 && p != 0 {
		u += ":" + strconv.Itoa(p)
	}
	return u
}

// CredentialsOf returns tenant t's credentials from its secrets file; a
// file without the API admin (an older one) is an error that says how to
// add it.
func CredentialsOf(inv *inventory.Inventory, t inventory.Tenant, store secrets.Store) (Credentials, error) {
	s, err := store.Load(t.Name)
	if err != nil {
		return Credentials{}, err
	}
	if s.API.Password == "" {
		return Credentials{}, fmt.Errorf("%s has no API admin yet: run `karana up` (or `karana tenant add %s --domain %s`) to create it", store.Path(t.Name), t.Name, t.Domain)
	}
	sv := inv.Services
	return Credentials{
		API:      Login{URL: URL(inv, t, sv.API.Host), Login: s.API.User, Password: s.API.Password},
		Grafana:  Login{URL: URL(inv, t, sv.Grafana.Host), Login: s.Grafana.User, Password: s.Grafana.Password},
		InfluxDB: Login{URL: URL(inv, t, sv.InfluxDB.Host), Login: s.InfluxDB.User, Password: s.InfluxDB.Password},
	}, nil
}
