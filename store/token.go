package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-share/sesame"
)

// newSecret returns prefix plus 43 base64url characters: 256 bits from crypto/rand.
func newSecret(prefix string) string {
	var b [32]byte
	rand.Read(b[:]) // never fails
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

type tokenRow struct {
	ID       string         `db:"id"`
	Name     string         `db:"name"`
	Scopes   string         `db:"scopes"`
	Created  string         `db:"created_at"`
	Expires  sql.NullString `db:"expires_at"`
	LastUsed sql.NullString `db:"last_used_at"`
	Revoked  sql.NullString `db:"revoked_at"`
}

func (r *tokenRow) token() *sesame.Token {
	t := &sesame.Token{ID: r.ID, Name: r.Name, Created: parseTime(r.Created),
		Expires: parseNullTime(r.Expires), LastUsed: parseNullTime(r.LastUsed), Revoked: parseNullTime(r.Revoked)}
	for _, s := range strings.Split(r.Scopes, ",") {
		if s != "" {
			t.Scopes = append(t.Scopes, sesame.Scope(s))
		}
	}
	return t
}

const tokenCols = `id, name, scopes, created_at, expires_at, last_used_at, revoked_at`

// CreateToken implements sesame.TokenStore.
func (st *Store) CreateToken(ctx context.Context, name string, scopes []sesame.Scope, expires time.Time) (*sesame.Token, string, error) {
	if err := sesame.CheckNewToken(name, scopes); err != nil {
		return nil, "", err
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	now := st.nowUTC()
	if !expires.IsZero() && !expires.After(now) {
		return nil, "", sesame.FieldErr("NotWithinRange", "/expires", "the expiry must be in the future")
	}
	t := &sesame.Token{ID: sesame.NewID(sesame.PrefixToken), Name: name, Scopes: scopes, Created: now, Expires: expires.UTC().Truncate(time.Microsecond)}
	secret := newSecret(sesame.TokenPrefix)
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO api_tokens (id, name, mac, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		t.ID, t.Name, st.mac("api token", secret), strings.Join(names, ","), sesame.FormatTime(now), nullTime(expires))
	if err != nil {
		return nil, "", fmt.Errorf("store: create token: %w", translate(err))
	}
	return t, secret, nil
}

// Authenticate implements sesame.TokenStore.
func (st *Store) Authenticate(ctx context.Context, secret string) (*sesame.Token, error) {
	bad := &sesame.Error{Kind: sesame.Unauthenticated, Message: "The API token is missing, unknown, revoked or expired."}
	if !strings.HasPrefix(secret, sesame.TokenPrefix) || len(secret) != len(sesame.TokenPrefix)+43 {
		return nil, bad
	}
	var r tokenRow
	err := st.db.GetContext(ctx, &r, st.db.Rebind(`SELECT `+tokenCols+` FROM api_tokens WHERE mac = ?`), st.mac("api token", secret))
	if err == sql.ErrNoRows {
		return nil, bad
	}
	if err != nil {
		return nil, fmt.Errorf("store: authenticate: %w", translate(err))
	}
	t := r.token()
	now := st.nowUTC()
	if !t.Revoked.IsZero() || (!t.Expires.IsZero() && !now.Before(t.Expires)) {
		return nil, bad
	}
	// last_used_at is written at most once a minute, to keep reads read-only.
	if t.LastUsed.IsZero() || now.Sub(t.LastUsed) > time.Minute {
		if _, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), sesame.FormatTime(now), t.ID); err != nil {
			st.log.WarnContext(ctx, "token last used", "token_id", t.ID, "error", err)
		}
		t.LastUsed = now
	}
	return t, nil
}

// FindTokens implements sesame.TokenStore.
func (st *Store) FindTokens(ctx context.Context) ([]*sesame.Token, error) {
	var rows []tokenRow
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT `+tokenCols+` FROM api_tokens ORDER BY created_at DESC, id DESC`)); err != nil {
		return nil, fmt.Errorf("store: find tokens: %w", err)
	}
	out := make([]*sesame.Token, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// RevokeToken implements sesame.TokenStore.
func (st *Store) RevokeToken(ctx context.Context, id string) error {
	res, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`), sesame.FormatTime(st.nowUTC()), id)
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", translate(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sesame.Errorf(sesame.NotFound, "No token has the id %s.", id)
	}
	return nil
}
