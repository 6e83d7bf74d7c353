package store

import (
	"context"
	"time"

	"github.com/sesame-share/sesame"
)

// OpenAtVersion opens the store with the migrations applied up to
// version only, as a database of an older release would be.
func OpenAtVersion(ctx context.Context, cfg Config, version int) (*Store, error) {
	cfg.migrateTo = version
	return Open(ctx, cfg)
}

// InsertLinkAtVersion13 stores a download link to target with one
// password authenticator (context phc) as a release at migration 13 did,
// with that release's columns only, and returns the link's and the
// authenticator's ids.
func (st *Store) InsertLinkAtVersion13(ctx context.Context, target, phc string, now time.Time) (linkID, authID string, err error) {
	linkID, authID = sesame.NewID(sesame.PrefixLink), sesame.NewID("lau_")
	token := newSecret("")
	sealed, err := st.seal([]byte(token), []byte(linkID))
	if err != nil {
		return "", "", err
	}
	ts := sesame.FormatTime(now)
	_, err = st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO links (id, bucket_id, link_type, token_mac, token_sealed, first_target,
expires_at, max_access_count, created_at, updated_at) VALUES (?, ?, 'download', ?, ?, ?, ?, 10, ?, ?)`),
		linkID, st.bucket, st.mac("link token", token), sealed, target, sesame.FormatTime(now.Add(24*time.Hour)), ts, ts)
	if err != nil {
		return "", "", err
	}
	if _, err = st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO link_targets (link_id, object_id, position) VALUES (?, ?, 0)`), linkID, target); err != nil {
		return "", "", err
	}
	return linkID, authID, st.InsertAuthenticatorRow(ctx, linkID, sesame.LinkAuthenticator{ID: authID, Type: sesame.AuthPassword, Context: phc})
}

// InsertAuthenticatorRow stores a as an authenticator of link linkID with
// plain SQL, whatever the schema's version.
func (st *Store) InsertAuthenticatorRow(ctx context.Context, linkID string, a sesame.LinkAuthenticator) error {
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO link_authenticators (id, link_id, position, auth_type, context) VALUES (?, ?, ?, ?, ?)`),
		a.ID, linkID, a.Position, string(a.Type), a.Context)
	return err
}
