package recovery

import (
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/secrets"
)

// secretsCredentials reads the API's first admin from the tenant's
// secrets file (tenant add writes it).
func secretsCredentials(inv *inventory.Inventory, t inventory.Tenant) (string, string, error) {
	s, err := secrets.Store{Dir: inv.SecretsDir()}.Load(t.Name)
	if err != nil {
		return "", "", err
	}
	if s.API.User == "" || s.API.Password == "" {
		return "", "", ErrNoCredentials
	}
	return s.API.User, s.API.Password, nil
}
