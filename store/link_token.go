package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sesame-share/sesame"
)

// linkByTokenSQL is linkByTokenQuery in each dialect.
var linkByTokenSQL = map[*dialect]string{sqliteDialect: inDialect(sqliteDialect, linkByTokenQuery),
	postgresDialect: inDialect(postgresDialect, linkByTokenQuery)}

// inDialect spells ROWS( and ROW( (gather rows into a JSON array of
// arrays) and the BYTES type in d's SQL.
func inDialect(d *dialect, query string) string {
	return strings.NewReplacer("ROWS(", d.jsonRows+"(", "ROW(", d.jsonRow+"(", "AS BYTES", "AS "+d.bytes).Replace(query)
}

// linkByTokenQuery always answers one row, found or not, with the link,
// its authenticators and its targets, so that every dead link costs what
// an unknown one does: the same statement, the same columns to read.
const linkByTokenQuery = `SELECT COALESCE(l.id, '') AS id, COALESCE(l.bucket_id, '') AS bucket_id, COALESCE(l.link_type, '') AS link_type,
COALESCE(l.title, '') AS title, COALESCE(l.message, '') AS message, l.tags AS tags, COALESCE(l.notify_email, '') AS notify_email, l.notify AS notify,
COALESCE(l.recipient_email, '') AS recipient_email, COALESCE(l.sender_email, '') AS sender_email, COALESCE(l.sender_name, '') AS sender_name,
COALESCE(l.expires_at, '') AS expires_at, COALESCE(l.max_access_count, 0) AS max_access_count, COALESCE(l.access_count, 0) AS access_count,
COALESCE(l.max_downloads, 0) AS max_downloads, COALESCE(l.downloads, 0) AS downloads, COALESCE(l.last_accessed_at, '') AS last_accessed_at,
COALESCE(l.auth_epoch, 0) AS auth_epoch, COALESCE(l.created_by, '') AS created_by, COALESCE(l.created_at, '') AS created_at,
COALESCE(l.updated_at, '') AS updated_at, l.deleted_at AS deleted_at, l.token_sealed AS token_sealed,
(SELECT ROWS(ROW(a.id, a.position, a.auth_type, a.context, a.failures, a.locked_until))
 FROM link_authenticators a WHERE a.link_id = l.id) AS auths,
(SELECT ROWS(ROW(t.position, t.object_id)) FROM link_targets t WHERE t.link_id = l.id) AS targets
FROM (SELECT CAST(? AS BYTES) AS mac) k LEFT JOIN links l ON l.token_mac = k.mac AND l.deleted_at IS NULL`

// decoyLink is a link row sealed by this store, built once, that
// LinkByToken reads when a token names no link.
type decoyLink struct {
	once sync.Once
	row  linkByTokenRow
}

func (d *decoyLink) get(st *Store) *linkByTokenRow {
	d.once.Do(func() {
		now := sesame.FormatTime(st.nowUTC())
		id := sesame.NewID(sesame.PrefixLink)
		sealed, _ := st.seal([]byte(newSecret("")), []byte(id)) // sealing fresh random bytes cannot fail
		d.row = linkByTokenRow{linkRow: linkRow{ID: id, BucketID: st.bucket, Type: string(sesame.LinkDownload), TokenSealed: sealed,
			Expires: now, Created: now, Updated: now},
			Auths:   sql.NullString{String: `[["` + sesame.NewID("lau_") + `",0,"password","$argon2id$",0,null]]`, Valid: true},
			Targets: sql.NullString{String: `[[0,"` + sesame.NewID(sesame.PrefixObject) + `"]]`, Valid: true}}
	})
	return &d.row
}

type linkByTokenRow struct {
	linkRow
	Auths   sql.NullString `db:"auths"`
	Targets sql.NullString `db:"targets"`
}

// LinkByToken returns the live-or-expired (not deleted) link whose URL
// secret is token. NotFound otherwise.
func (st *Store) LinkByToken(ctx context.Context, token string) (*sesame.Link, error) {
	var r linkByTokenRow
	if err := st.db.GetContext(ctx, &r, st.db.Rebind(linkByTokenSQL[st.dialect]), st.mac("link token", token)); err != nil {
		return nil, fmt.Errorf("store: link by token: %w", err)
	}
	auths, targets, err := decodeLinkParts(r.Auths.String, r.Targets.String)
	if err != nil {
		return nil, err
	}
	if r.ID == "" {
		// An unknown token does the work of a dead link too, on a decoy,
		// so that no kind of dead link answers faster than another.
		d := st.decoy.get(st)
		_, _ = st.linkFromRow(&d.linkRow) // the decoy is sealed by this store
		_, _, _ = decodeLinkParts(d.Auths.String, d.Targets.String)
		return nil, errDead
	}
	// Unsealing checks the row is intact, though the caller holds the token.
	l, err := st.linkFromRow(&r.linkRow)
	if err != nil {
		return nil, err
	}
	l.Authenticators, l.Targets = auths, targets
	return l, nil
}

// decodeLinkParts reads the JSON arrays of authenticators and targets
// that linkByTokenQuery gathers, in position order.
func decodeLinkParts(authsJSON, targetsJSON string) ([]sesame.LinkAuthenticator, []string, error) {
	var auths [][6]any
	var targets []struct {
		Position int
		ID       string
	}
	if authsJSON != "" {
		if err := json.Unmarshal([]byte(authsJSON), &auths); err != nil {
			return nil, nil, fmt.Errorf("store: link authenticators: %w", err)
		}
	}
	if targetsJSON != "" {
		var raw [][2]any
		if err := json.Unmarshal([]byte(targetsJSON), &raw); err != nil {
			return nil, nil, fmt.Errorf("store: link targets: %w", err)
		}
		for _, t := range raw {
			pos, _ := t[0].(float64)
			id, _ := t[1].(string)
			targets = append(targets, struct {
				Position int
				ID       string
			}{int(pos), id})
		}
	}
	out := make([]sesame.LinkAuthenticator, 0, len(auths))
	for _, a := range auths {
		r := authRow{}
		r.ID, _ = a[0].(string)
		pos, _ := a[1].(float64)
		r.Position = int(pos)
		typ, _ := a[2].(string)
		r.Type = typ
		r.Context, _ = a[3].(string)
		fails, _ := a[4].(float64)
		r.Failures = int(fails)
		if until, ok := a[5].(string); ok {
			r.LockedUntil = sql.NullString{String: until, Valid: true}
		}
		out = append(out, r.authenticator())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	sort.Slice(targets, func(i, j int) bool { return targets[i].Position < targets[j].Position })
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	return out, ids, nil
}
