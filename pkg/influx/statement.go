package influx

import "fmt"

// Statement is one InfluxQL statement together with a form of it that is safe
// to put into errors and logs: passwords are replaced by '***'. Build
// statements with the functions below; they quote every name and string, so
// no caller ever formats a bare %s into InfluxQL.
type Statement struct {
	Text     string
	Redacted string
}

func plain(text string) Statement { return Statement{Text: text, Redacted: text} }

// Privilege is a per-database privilege as GRANT takes it. The zero value
// means no privilege.
type Privilege string

const (
	Read  Privilege = "READ"
	Write Privilege = "WRITE"
	All   Privilege = "ALL"
)

// parsePrivilege maps SHOW GRANTS' column text onto Privilege.
func parsePrivilege(s string) Privilege {
	switch s {
	case "READ":
		return Read
	case "WRITE":
		return Write
	case "ALL PRIVILEGES", "ALL":
		return All
	}
	return "" // "NO PRIVILEGES" is what a revoked grant leaves behind
}

// CreateDatabase is idempotent in InfluxDB.
func CreateDatabase(db string) Statement {
	return plain("CREATE DATABASE " + QuoteIdent(db))
}

// CreateUser creates a user; with admin it creates a cluster admin.
func CreateUser(name, password string, admin bool) Statement {
	suffix := ""
	if admin {
		suffix = " WITH ALL PRIVILEGES"
	}
	head := "CREATE USER " + QuoteIdent(name) + " WITH PASSWORD "
	return Statement{
		Text:     head + QuoteString(password) + suffix,
		Redacted: head + "'***'" + suffix,
	}
}

// SetPassword changes a user's password.
func SetPassword(name, password string) Statement {
	head := "SET PASSWORD FOR " + QuoteIdent(name) + " = "
	return Statement{Text: head + QuoteString(password), Redacted: head + "'***'"}
}

// Grant replaces the user's privilege on db with p.
func Grant(p Privilege, db, user string) Statement {
	if p == "" {
		panic("influx: Grant with an empty privilege")
	}
	return plain(fmt.Sprintf("GRANT %s ON %s TO %s", p, QuoteIdent(db), QuoteIdent(user)))
}

// Revoke removes every privilege the user has on db.
func Revoke(db, user string) Statement {
	return plain(fmt.Sprintf("REVOKE ALL ON %s FROM %s", QuoteIdent(db), QuoteIdent(user)))
}

// RevokeAdmin takes the cluster admin flag away from the user.
func RevokeAdmin(user string) Statement {
	return plain("REVOKE ALL PRIVILEGES FROM " + QuoteIdent(user))
}

// DropDatabase deletes a database and its data (idempotent in InfluxDB).
func DropDatabase(db string) Statement { return plain("DROP DATABASE " + QuoteIdent(db)) }

// DropUser deletes a user.
func DropUser(name string) Statement { return plain("DROP USER " + QuoteIdent(name)) }

// ShowUsers lists users and their admin flag.
func ShowUsers() Statement { return plain("SHOW USERS") }

// ShowDatabases lists the databases the caller may see.
func ShowDatabases() Statement { return plain("SHOW DATABASES") }

// ShowGrants lists a user's per-database privileges.
func ShowGrants(user string) Statement { return plain("SHOW GRANTS FOR " + QuoteIdent(user)) }
