package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
)

// DashboardTitle is the title of the dashboard the sync keeps in each
// user's organisation.
const DashboardTitle = "Karanas"

// KaranaTag is the InfluxDB tag whose value is the karana's uuid: a
// karana's points carry it, and its panel selects by it.
const KaranaTag = "karana"

// DashboardUID is the uid of a user's dashboard: "karana-" and the 32 hex
// digits of the user's uuid (39 characters; Grafana allows 40).
func DashboardUID(userUUID string) string { return "karana-" + hexUUID(userUUID) }

// PanelQuery is the InfluxQL of a karana's panel. $timeFilter and
// $__interval are Grafana's macros for the dashboard's time range.
func PanelQuery(karanaUUID string) string {
	return `SELECT mean(*) FROM /.*/ WHERE ` + influx.QuoteIdent(KaranaTag) + ` = ` +
		influx.QuoteString(canonicalUUID(karanaUUID)) + ` AND $timeFilter GROUP BY time($__interval) fill(none)`
}

// wantDashboard is the dashboard of a user with these karanas: one time
// series panel per karana, ordered by name, then uuid.
func wantDashboard(userUUID, dsUID string, karanas []Karana) map[string]any {
	ks := append([]Karana(nil), karanas...)
	sort.Slice(ks, func(i, j int) bool {
		a, b := strings.ToLower(ks[i].Name), strings.ToLower(ks[j].Name)
		if a != b {
			return a < b
		}
		return canonicalUUID(ks[i].UUID) < canonicalUUID(ks[j].UUID)
	})
	ds := map[string]any{"type": "influxdb", "uid": dsUID}
	panels := []any{}
	for i, k := range ks {
		title := k.Name
		if strings.TrimSpace(title) == "" {
			title = canonicalUUID(k.UUID)
		}
		panels = append(panels, map[string]any{
			"id": i + 1, "type": "timeseries", "title": title,
			"description": "karana " + canonicalUUID(k.UUID),
			"datasource":  ds,
			"gridPos":     map[string]any{"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
			"targets": []any{map[string]any{
				"refId": "A", "datasource": ds, "rawQuery": true, "resultFormat": "time_series",
				"query": PanelQuery(k.UUID),
			}},
		})
	}
	return map[string]any{
		"uid": DashboardUID(userUUID), "title": DashboardTitle, "tags": []any{"karana"},
		"timezone": "browser", "schemaVersion": 39, "editable": true,
		"time": map[string]any{"from": "now-24h", "to": "now"}, "refresh": "1m",
		"panels": panels,
	}
}

// ensureDashboard writes the user's dashboard when it is missing or when
// what the sync manages differs (title, tags, the panels' ids, titles,
// queries and data source). Layout changes a user made are left alone
// until the set of karanas changes.
func (r *run) ensureDashboard(ctx context.Context, orgID int64, userUUID, dsUID string, karanas []Karana) error {
	g := r.s.grafana
	want := wantDashboard(userUUID, dsUID, karanas)
	uid := want["uid"].(string)
	got, err := g.DashboardByUID(ctx, orgID, uid)
	switch {
	case errors.Is(err, grafana.ErrNotFound):
	case err != nil:
		return fmt.Errorf("reading grafana dashboard %s in org %d: %w", uid, orgID, err)
	case got.Meta.FolderUID == "" && managed(got.Dashboard) == managed(want):
		return nil
	}
	r.changed = true
	if _, err := g.SaveDashboard(ctx, orgID, want, "karana sync"); err != nil {
		return fmt.Errorf("saving grafana dashboard %s in org %d: %w", uid, orgID, err)
	}
	return nil
}

// managed is the part of a dashboard model the sync owns, as canonical
// JSON.
func managed(model map[string]any) string {
	pick := func(m map[string]any, keys ...string) map[string]any {
		out := map[string]any{}
		for _, k := range keys {
			out[k] = m[k]
		}
		return out
	}
	top := pick(model, "uid", "title", "tags")
	var panels []any
	list, _ := roundTrip(model["panels"]).([]any)
	for _, p := range list {
		pm, _ := p.(map[string]any)
		panels = append(panels, pick(pm, "id", "type", "title", "description", "datasource", "targets"))
	}
	top["panels"] = panels
	b, _ := json.Marshal(roundTrip(top))
	return string(b)
}

// roundTrip makes Go values and decoded JSON compare alike (ints become
// float64, typed slices []any).
func roundTrip(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
