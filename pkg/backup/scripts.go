package backup

import (
	"fmt"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/provision"
)

// Formats of a part, recorded in the manifest.
const (
	// FormatInfluxd is a tar of `influxd backup` (legacy format, one run
	// per database, then the metastore) plus a file "databases". The
	// legacy format because its metastore snapshot carries users and
	// grants: a portable restore (-portable) brings databases and points
	// back but no users, and every karana would be locked out.
	FormatInfluxd = "influxd-backup+tar"
	// FormatTar is a tar of a data folder.
	FormatTar = "tar"
)

// influxSave writes the tar on stdout; influxd's own logs go to stderr only
// when it fails. The metastore goes last, so that it knows every shard
// the database backups hold (restore uses the newest meta.NN).
const influxSave = `set -e
d=$(mktemp -d /var/tmp/karana-backup.XXXXXX)
trap 'rm -rf "$d"' EXIT
mkdir "$d/b"
: > "$d/b/databases"
for p in /var/lib/influxdb/data/*/; do
  [ -d "$p" ] || continue
  db=$(basename "$p")
  [ "$db" = _internal ] && continue
  influxd backup -host 127.0.0.1:8088 -database "$db" "$d/b" >"$d/log" 2>&1 || { cat "$d/log" >&2; exit 1; }
  echo "$db" >> "$d/b/databases"
done
influxd backup -host 127.0.0.1:8088 "$d/b" >"$d/log" 2>&1 || { cat "$d/log" >&2; exit 1; }
tar -C "$d/b" -cf - .
`

// influxLoad reads the tar on stdin and restores it offline: the
// metastore (users, grants, databases, retention policies), then each
// database's shards.
const influxLoad = `set -e
d=$(mktemp -d /var/tmp/karana-restore.XXXXXX)
trap 'rm -rf "$d"' EXIT
mkdir "$d/b"
tar -C "$d/b" -xf -
systemctl stop influxdb.service
rm -rf /var/lib/influxdb/meta /var/lib/influxdb/data /var/lib/influxdb/wal
influxd restore -metadir /var/lib/influxdb/meta "$d/b" >"$d/log" 2>&1 || { cat "$d/log" >&2; exit 1; }
while read -r db; do
  [ -n "$db" ] || continue
  influxd restore -metadir /var/lib/influxdb/meta -db "$db" -datadir /var/lib/influxdb/data "$d/b" >"$d/log" 2>&1 || { cat "$d/log" >&2; exit 1; }
done < "$d/b/databases"
mkdir -p /var/lib/influxdb/data /var/lib/influxdb/wal
chown -R influxdb:influxdb /var/lib/influxdb
systemctl start influxdb.service
`

// folderSave tars a data folder while its service runs. The API writes
// its dump files by rename and git objects are immutable, Grafana's
// stand-in writes its state by rename; Grafana's own grafana.db is a
// SQLite file, copied as it is (SQLite recovers from its journal).
func folderSave(dir string, exclude ...string) string {
	ex := ""
	for _, e := range exclude {
		ex += " --exclude=" + e
	}
	return fmt.Sprintf("set -e\nmkdir -p %s\ntar -C %s%s -cf - .\n", dir, dir, ex)
}

// folderLoad stops unit, empties dir, unpacks the tar from stdin into it,
// gives it to owner (when that user exists) and starts unit again.
func folderLoad(dir, unit, owner string) string {
	return fmt.Sprintf(`set -e
systemctl stop %[2]s
mkdir -p %[1]s
find %[1]s -mindepth 1 -maxdepth 1 -exec rm -rf {} +
tar -C %[1]s -xf -
if id %[3]s >/dev/null 2>&1; then chown -R %[3]s: %[1]s; fi
systemctl start %[2]s
`, dir, unit, owner)
}

// GrafanaDataDir is Grafana's data folder (grafana.db; the stand-in's
// grafana-standin.json).
const GrafanaDataDir = "/var/lib/grafana"

// scripts returns the save and load shell scripts and the format of role r.
func scripts(r inventory.Role) (save, load, format string) {
	switch r {
	case inventory.RoleInfluxDB:
		return influxSave, influxLoad, FormatInfluxd
	case inventory.RoleGrafana:
		return folderSave(GrafanaDataDir), folderLoad(GrafanaDataDir, provision.GrafanaUnit, "grafana"), FormatTar
	default:
		return folderSave(provision.APIDataDir, "./.lock"), folderLoad(provision.APIDataDir, provision.APIUnit, "root"), FormatTar
	}
}
