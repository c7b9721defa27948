package syncer

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// DataSourceName is the name of the one data source in each user's org.
const DataSourceName = "karana InfluxDB"

// GrafanaRole is the role each user has in their own organisation: Editor,
// so they can build dashboards and explore, but cannot change the data
// source (that needs Admin), whose credentials are read-only anyway.
const GrafanaRole = "Editor"

// names are the stable names derived for one user.
type names struct {
	Database   string // InfluxDB database holding the user's karanas' data
	InfluxUser string // read-only InfluxDB user for the user (and Grafana)
	Org        string // the user's Grafana organisation
}

func namesFor(tenant, userUUID string) names {
	h := hexUUID(userUUID)
	return names{Database: "u_" + h, InfluxUser: "u_" + h, Org: OrgName(tenant, userUUID)}
}

// DatabaseName is the InfluxDB database of the user with that uuid.
func DatabaseName(userUUID string) string { return "u_" + hexUUID(userUUID) }

// UserInfluxUser is the read-only InfluxDB user of the user with that uuid.
func UserInfluxUser(userUUID string) string { return "u_" + hexUUID(userUUID) }

// KaranaInfluxUser is the InfluxDB user a karana writes with.
func KaranaInfluxUser(karanaUUID string) string { return "k_" + hexUUID(karanaUUID) }

// OrgName is the Grafana organisation of a user. It depends only on the
// tenant and the user's uuid, so renaming a user does not orphan it.
func OrgName(tenant, userUUID string) string {
	return "karana " + tenant + " " + canonicalUUID(userUUID)
}

// hexUUID is the uuid's 32 lower-case hex digits. Callers validate first;
// an unparsable value is used lower-cased without dashes, still quoted
// wherever it goes.
func hexUUID(s string) string { return strings.ReplaceAll(canonicalUUID(s), "-", "") }

func canonicalUUID(s string) string {
	if u, err := uuid.Parse(s); err == nil {
		return u.String()
	}
	return strings.ToLower(s)
}

// credentialDigest fingerprints the credentials stored in a data source.
// Grafana never returns secureJsonData, so the digest kept in jsonData is
// how a later sync tells whether the password is still current without
// rewriting it every time. It is a salted SHA-256, shown only to members of
// the user's own org and to the server admin.
func credentialDigest(user, password string) string {
	sum := sha256.Sum256([]byte("karana-datasource\x00" + user + "\x00" + password))
	return hex.EncodeToString(sum[:])
}
