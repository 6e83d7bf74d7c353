package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var _ sesame.SocialStates = (*Store)(nil)

// oidcSweep bounds how many expired sign-ins one new sign-in clears away.
const oidcSweep = 100

// CreateSocialState implements sesame.SocialStates. The state is stored
// as its MAC, the link token and PKCE verifier sealed; the same
// transaction clears away sign-ins that expired unused.
func (st *Store) CreateSocialState(ctx context.Context, s *sesame.SocialState) error {
	if strings.Contains(s.LinkToken, "\n") {
		return errors.New("store: social state: link token holds a line break")
	}
	mac := st.mac("oidc-state", s.State)
	sealed, err := st.seal([]byte(s.LinkToken+"\n"+s.Verifier), mac)
	if err != nil {
		return err
	}
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM oidc_states WHERE state_mac IN (SELECT state_mac FROM oidc_states WHERE expires_at <= ? LIMIT ?)`),
			sesame.FormatTime(st.nowUTC()), oidcSweep); err != nil {
			return fmt.Errorf("store: sweep social states: %w", err)
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO oidc_states (state_mac, auth_id, provider, nonce, sealed, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`), mac, s.AuthID, s.Provider, s.Nonce, sealed, sesame.FormatTime(s.Created), sesame.FormatTime(s.Expires))
		if err != nil {
			return fmt.Errorf("store: create social state: %w", err)
		}
		return nil
	})
}

// TakeSocialState implements sesame.SocialStates with one DELETE …
// RETURNING: of two callbacks with the same state, on one replica or two,
// one gets the row and the other NotFound.
func (st *Store) TakeSocialState(ctx context.Context, state string, now time.Time) (*sesame.SocialState, error) {
	var r struct {
		AuthID   string `db:"auth_id"`
		Provider string `db:"provider"`
		Nonce    string `db:"nonce"`
		Sealed   []byte `db:"sealed"`
		Created  string `db:"created_at"`
		Expires  string `db:"expires_at"`
	}
	mac := st.mac("oidc-state", state)
	err := st.w.GetContext(ctx, &r, st.w.Rebind(`DELETE FROM oidc_states WHERE state_mac = ? AND expires_at > ?
RETURNING auth_id, provider, nonce, sealed, created_at, expires_at`), mac, sesame.FormatTime(now.UTC()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errDeadState
	}
	if err != nil {
		return nil, fmt.Errorf("store: take social state: %w", translate(err))
	}
	plain, err := st.unseal(r.Sealed, mac)
	if err != nil {
		return nil, err
	}
	token, verifier, _ := strings.Cut(string(plain), "\n")
	return &sesame.SocialState{State: state, LinkToken: token, Verifier: verifier, AuthID: r.AuthID, Provider: r.Provider,
		Nonce: r.Nonce, Created: parseTime(r.Created), Expires: parseTime(r.Expires)}, nil
}

var errDeadState = sesame.Errorf(sesame.NotFound, "This sign-in has expired or was already used.")
