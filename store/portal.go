package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"fmt"
	"math"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var (
	_ sesame.AccessStore    = (*Store)(nil)
	_ sesame.ChallengeStore = (*Store)(nil)
)

var errDead = sesame.Errorf(sesame.NotFound, "This link does not exist.")

// SignIn implements sesame.SessionStore.
func (st *Store) SignIn(ctx context.Context, l *sesame.Link, authID, ip, userAgent string, now time.Time) (*sesame.Session, string, error) {
	now = now.UTC().Truncate(time.Microsecond)
	secret := newSecret("")
	var sess *sesame.Session
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		// One conditional UPDATE: never past max_access_count, never on a
		// dead link, whatever runs at the same time.
		var row struct {
			Epoch     int    `db:"auth_epoch"`
			Expires   string `db:"expires_at"`
			Count     int    `db:"access_count"`
			MaxAccess int    `db:"max_access_count"`
		}
		err := tx.GetContext(ctx, &row, tx.Rebind(`UPDATE links SET access_count = access_count + 1, last_accessed_at = ?
WHERE id = ? AND deleted_at IS NULL AND expires_at > ? AND access_count < max_access_count RETURNING auth_epoch, expires_at, access_count, max_access_count`),
			sesame.FormatTime(now), l.ID, sesame.FormatTime(now))
		if err == sql.ErrNoRows {
			return errDead
		}
		if err != nil {
			return fmt.Errorf("store: claim access: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE link_authenticators SET failures = 0, lock_count = 0 WHERE id = ?`), authID); err != nil {
			return fmt.Errorf("store: reset failures: %w", err)
		}
		exp := now.Add(sesame.SessionMaxAge)
		if le := parseTime(row.Expires); le.Before(exp) {
			exp = le
		}
		sess = &sesame.Session{ID: sesame.NewID("ses_"), LinkID: l.ID, AuthenticatorID: authID, AuthEpoch: row.Epoch,
			Created: now, Expires: exp, LastSeen: now, IP: ip, UserAgent: truncate(userAgent, 256)}
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sessions (secret_mac, id, link_id, authenticator_id, auth_epoch, created_at, expires_at, last_seen_at, ip, user_agent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), st.mac("session", secret), sess.ID, l.ID, authID, row.Epoch, sesame.FormatTime(now),
			sesame.FormatTime(exp), sesame.FormatTime(now), ip, sess.UserAgent)
		if err != nil {
			return fmt.Errorf("store: create session: %w", err)
		}
		if note := sesame.AuditNoteFrom(ctx); note != nil {
			ev := note.Event(now, l.ID, "")
			ev.Actor = sess.ID // a sign-in is the act of the session it opens
			if err := st.appendAudit(ctx, tx, ev); err != nil {
				return err
			}
		}
		return st.publishSignIn(ctx, tx, sess, row.Count >= row.MaxAccess)
	})
	if err != nil {
		return nil, "", err
	}
	return sess, secret, nil
}

// SessionBySecret implements sesame.SessionStore.
func (st *Store) SessionBySecret(ctx context.Context, linkID, secret string, epoch int, now time.Time) (*sesame.Session, error) {
	var r struct {
		ID       string `db:"id"`
		LinkID   string `db:"link_id"`
		AuthID   string `db:"authenticator_id"`
		Epoch    int    `db:"auth_epoch"`
		Created  string `db:"created_at"`
		Expires  string `db:"expires_at"`
		LastSeen string `db:"last_seen_at"`
		IP       string `db:"ip"`
		UA       string `db:"user_agent"`
	}
	mac := st.mac("session", secret)
	err := st.db.GetContext(ctx, &r, st.db.Rebind(`SELECT id, link_id, authenticator_id, auth_epoch, created_at, expires_at, last_seen_at, ip, user_agent
FROM sessions WHERE secret_mac = ? AND ended_at IS NULL`), mac)
	if err == sql.ErrNoRows {
		return nil, errDead
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	s := &sesame.Session{ID: r.ID, LinkID: r.LinkID, AuthenticatorID: r.AuthID, AuthEpoch: r.Epoch, Created: parseTime(r.Created),
		Expires: parseTime(r.Expires), LastSeen: parseTime(r.LastSeen), IP: r.IP, UserAgent: r.UA}
	if s.LinkID != linkID || s.AuthEpoch != epoch || !now.Before(s.Expires) || now.Sub(s.LastSeen) > sesame.SessionIdle {
		return nil, errDead
	}
	// last_seen_at moves at most once a minute, to keep reads cheap.
	if now.Sub(s.LastSeen) > time.Minute {
		if _, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE sessions SET last_seen_at = ? WHERE secret_mac = ?`), sesame.FormatTime(now), mac); err != nil {
			return nil, fmt.Errorf("store: touch session: %w", err)
		}
		s.LastSeen = now
	}
	return s, nil
}

// EndSession implements sesame.SessionStore.
func (st *Store) EndSession(ctx context.Context, secret string) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var ended struct {
			LinkID string `db:"link_id"`
			ID     string `db:"id"`
		}
		err := tx.GetContext(ctx, &ended, tx.Rebind(`UPDATE sessions SET ended_at = ? WHERE secret_mac = ? AND ended_at IS NULL RETURNING link_id, id`),
			sesame.FormatTime(st.nowUTC()), st.mac("session", secret))
		if err == sql.ErrNoRows {
			return nil // ended already
		}
		if err != nil {
			return fmt.Errorf("store: end session: %w", err)
		}
		// The keys of the files the session unlocked end with it.
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM session_file_keys WHERE session_id = ?`), ended.ID); err != nil {
			return fmt.Errorf("store: end session keys: %w", err)
		}
		return st.noteChange(ctx, tx, ended.LinkID, "")
	})
}

// RecordAuthFailure implements sesame.AccessStore. The count and the lock
// change in one transaction that holds the row, so concurrent failures
// neither lose a count nor lock twice.
func (st *Store) RecordAuthFailure(ctx context.Context, authID string, now time.Time) (time.Time, error) {
	var locked time.Time
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var r struct {
			Failures int    `db:"failures"`
			Locks    int    `db:"lock_count"`
			LinkID   string `db:"link_id"`
		}
		// A lock in force counts nothing more: the next lock's window grows
		// from locks, not from guesses made while locked.
		err := tx.GetContext(ctx, &r, tx.Rebind(`UPDATE link_authenticators SET failures = failures + 1
WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?) RETURNING failures, lock_count, link_id`), authID, sesame.FormatTime(now))
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: record failure: %w", translate(err))
		}
		if r.Failures < sesame.LockAfterFailures {
			return nil
		}
		locked = now.Add(sesame.LockWindow(r.Locks + 1))
		if note := sesame.AuditNoteFrom(ctx); note != nil {
			ev := note.Event(now, "", "")
			ev.Detail = map[string]string{"locked_until": sesame.FormatTime(locked)}
			for k, v := range note.Detail {
				ev.Detail[k] = v
			}
			if err := st.appendAudit(ctx, tx, ev); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE link_authenticators SET failures = 0, lock_count = lock_count + 1, locked_until = ? WHERE id = ?`),
			sesame.FormatTime(locked), authID)
		if err != nil {
			return fmt.Errorf("store: lock authenticator: %w", err)
		}
		if err := st.notifyOwner(ctx, tx, r.LinkID, sesame.OwnerLocked); err != nil {
			return err
		}
		return st.publishLink(ctx, tx, sesame.EventLinkLocked, r.LinkID, map[string]any{"authenticator_id": authID,
			"locked_until": sesame.FormatTime(locked), "lock_count": r.Locks + 1})
	})
	return locked, err
}

// BackoffUntil implements sesame.Backoff.
func (st *Store) BackoffUntil(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var until string
	err := st.db.GetContext(ctx, &until, st.db.Rebind(`SELECT blocked_until FROM backoff WHERE key = ?`), key)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: backoff: %w", err)
	}
	t := parseTime(until)
	if !t.After(now) {
		return time.Time{}, nil
	}
	return t, nil
}

// backoffDelay is the wait after n failures: none after the first
// FreeFailures-1, so FreeFailures tries go through at once; then 1 s,
// doubling up to MaxBackoff.
func backoffDelay(n int) time.Duration {
	if n < sesame.FreeFailures {
		return 0
	}
	d := time.Duration(math.Pow(2, float64(n-sesame.FreeFailures))) * time.Second
	if d > sesame.MaxBackoff || d <= 0 {
		return sesame.MaxBackoff
	}
	return d
}

// RecordBackoffFailure implements sesame.Backoff.
func (st *Store) RecordBackoffFailure(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var until time.Time
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var n int
		err := tx.GetContext(ctx, &n, tx.Rebind(`INSERT INTO backoff (key, failures, blocked_until, updated_at) VALUES (?, 1, ?, ?)
ON CONFLICT (key) DO UPDATE SET failures = backoff.failures + 1, updated_at = excluded.updated_at RETURNING failures`),
			key, sesame.FormatTime(now), sesame.FormatTime(now))
		if err != nil {
			return fmt.Errorf("store: backoff failure: %w", err)
		}
		until = now.Add(backoffDelay(n))
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE backoff SET blocked_until = ? WHERE key = ?`), sesame.FormatTime(until), key)
		return err
	})
	return until, err
}

// ClearBackoff implements sesame.Backoff.
func (st *Store) ClearBackoff(ctx context.Context, key string) error {
	if _, err := st.w.ExecContext(ctx, st.w.Rebind(`DELETE FROM backoff WHERE key = ?`), key); err != nil {
		return fmt.Errorf("store: clear backoff: %w", err)
	}
	return nil
}

// CreateChallenge implements sesame.ChallengeStore.
func (st *Store) CreateChallenge(ctx context.Context, authID, code string, msg *sesame.Message, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var recent struct {
			Count int            `db:"n"`
			Last  sql.NullString `db:"last"`
		}
		err := tx.GetContext(ctx, &recent, tx.Rebind(`SELECT COUNT(*) AS n, MAX(sent_at) AS last FROM challenges WHERE authenticator_id = ? AND sent_at > ?`),
			authID, sesame.FormatTime(now.Add(-time.Hour)))
		if err != nil {
			return fmt.Errorf("store: recent challenges: %w", err)
		}
		if recent.Last.Valid && now.Sub(parseTime(recent.Last.String)) < sesame.MinResendInterval {
			return sesame.Errorf(sesame.TooManyAttempts, "A code was sent less than a minute ago.")
		}
		if recent.Count >= sesame.MaxSendsPerHour {
			return sesame.Errorf(sesame.TooManyAttempts, "Too many codes were sent in the last hour.")
		}
		id := sesame.NewID("chl_")
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO challenges (id, authenticator_id, code_mac, expires_at, sent_at) VALUES (?, ?, ?, ?, ?)`),
			id, authID, st.mac("code "+id, code), sesame.FormatTime(now.Add(sesame.CodeTTL)), sesame.FormatTime(now))
		if err != nil {
			return fmt.Errorf("store: create challenge: %w", err)
		}
		return st.enqueue(ctx, tx, now, msg)
	})
}

// VerifyCode implements sesame.ChallengeStore.
func (st *Store) VerifyCode(ctx context.Context, authID, code string, now time.Time) error {
	wrong := false
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var c struct {
			ID       string `db:"id"`
			MAC      []byte `db:"code_mac"`
			Attempts int    `db:"attempts"`
		}
		err := tx.GetContext(ctx, &c, tx.Rebind(`SELECT id, code_mac, attempts FROM challenges WHERE authenticator_id = ? AND consumed_at IS NULL AND expires_at > ?
ORDER BY sent_at DESC LIMIT 1`), authID, sesame.FormatTime(now))
		if err == sql.ErrNoRows {
			return sesame.ErrNoCode
		}
		if err != nil {
			return fmt.Errorf("store: challenge: %w", err)
		}
		if c.Attempts >= sesame.MaxCodeAttempts {
			return sesame.Errorf(sesame.TooManyAttempts, "Too many wrong tries for this code. Ask for a new one.")
		}
		if hmac.Equal(st.mac("code "+c.ID, code), c.MAC) {
			res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`), sesame.FormatTime(now), c.ID)
			if err != nil {
				return fmt.Errorf("store: consume challenge: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return sesame.Errorf(sesame.Unauthenticated, "That code has already been used.")
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE challenges SET attempts = attempts + 1 WHERE id = ?`), c.ID); err != nil {
			return fmt.Errorf("store: count attempt: %w", err)
		}
		// Commit the counted try; the answer is still wrong.
		wrong = true
		return nil
	})
	if err == nil && wrong {
		return errWrongCode
	}
	return err
}

// CodeState implements sesame.AccessStore: when the authenticator may be
// sent its next code, and how many wrong tries its live code has left.
func (st *Store) CodeState(ctx context.Context, authID string, now time.Time) (sesame.CodeState, error) {
	now = now.UTC()
	var recent struct {
		Count int            `db:"n"`
		First sql.NullString `db:"first"`
		Last  sql.NullString `db:"last"`
	}
	err := st.db.GetContext(ctx, &recent, st.db.Rebind(`SELECT COUNT(*) AS n, MIN(sent_at) AS first, MAX(sent_at) AS last FROM challenges WHERE authenticator_id = ? AND sent_at > ?`),
		authID, sesame.FormatTime(now.Add(-time.Hour)))
	if err != nil {
		return sesame.CodeState{}, fmt.Errorf("store: recent challenges: %w", err)
	}
	var cs sesame.CodeState
	if recent.Last.Valid {
		cs.NextSend = parseTime(recent.Last.String).Add(sesame.MinResendInterval)
	}
	if recent.Count >= sesame.MaxSendsPerHour && recent.First.Valid {
		cs.NextSend = later(cs.NextSend, parseTime(recent.First.String).Add(time.Hour))
	}
	var attempts []int
	err = st.db.SelectContext(ctx, &attempts, st.db.Rebind(`SELECT attempts FROM challenges WHERE authenticator_id = ? AND consumed_at IS NULL AND expires_at > ?
ORDER BY sent_at DESC LIMIT 1`), authID, sesame.FormatTime(now))
	if err != nil {
		return sesame.CodeState{}, fmt.Errorf("store: live challenge: %w", err)
	}
	if len(attempts) == 1 {
		cs.Live, cs.TriesLeft = true, max(0, sesame.MaxCodeAttempts-attempts[0])
	}
	return cs, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

var errWrongCode = sesame.Errorf(sesame.Unauthenticated, "That code is not right.")

// ClaimDownload implements sesame.DownloadClaims.
func (st *Store) ClaimDownload(ctx context.Context, l *sesame.Link, sessionID, key string) (bool, error) {
	claimed := false
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO download_claims (session_id, claim_key, link_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			sessionID, key, l.ID, sesame.FormatTime(st.nowUTC()))
		if err != nil {
			return fmt.Errorf("store: claim download: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // this session already paid for this file
		}
		// One conditional UPDATE against the cap.
		var c struct {
			Downloads int `db:"downloads"`
			Max       int `db:"max_downloads"`
		}
		err = tx.GetContext(ctx, &c, tx.Rebind(`UPDATE links SET downloads = downloads + 1 WHERE id = ? AND (max_downloads = 0 OR downloads < max_downloads)
RETURNING downloads, max_downloads`), l.ID)
		if err == sql.ErrNoRows {
			return sesame.Errorf(sesame.Forbidden, "This link has reached its download limit.")
		}
		if err != nil {
			return fmt.Errorf("store: count download: %w", err)
		}
		claimed = true
		if c.Max > 0 && c.Downloads >= c.Max {
			if err := st.notifyOwner(ctx, tx, l.ID, sesame.OwnerExhausted); err != nil {
				return err
			}
			return st.publishLink(ctx, tx, sesame.EventLinkExhausted, l.ID, map[string]any{"reason": sesame.ExhaustedDownloads})
		}
		return nil
	})
	return claimed, err
}

// RefundDownload implements sesame.DownloadClaims.
func (st *Store) RefundDownload(ctx context.Context, linkID, sessionID, key string) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM download_claims WHERE session_id = ? AND claim_key = ?`), sessionID, key)
		if err != nil {
			return fmt.Errorf("store: refund claim: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE links SET downloads = downloads - 1 WHERE id = ? AND downloads > 0`), linkID)
		return err
	})
}

// AddSessionUpload implements sesame.SessionUploads.
func (st *Store) AddSessionUpload(ctx context.Context, sessionID, objectID string) error {
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO session_uploads (session_id, object_id) VALUES (?, ?) ON CONFLICT DO NOTHING`), sessionID, objectID)
	if err != nil {
		return fmt.Errorf("store: session upload: %w", err)
	}
	return nil
}

// SessionUploadIDs implements sesame.SessionUploads.
func (st *Store) SessionUploadIDs(ctx context.Context, sessionID string) ([]string, error) {
	var ids []string
	if err := st.db.SelectContext(ctx, &ids, st.db.Rebind(`SELECT object_id FROM session_uploads WHERE session_id = ? ORDER BY `+st.dialect.insertionOrder), sessionID); err != nil {
		return nil, fmt.Errorf("store: session uploads: %w", err)
	}
	return ids, nil
}

// ReserveUploadFile implements sesame.AccessStore with one conditional
// UPDATE, so that concurrent uploads never pass the cap together.
func (st *Store) ReserveUploadFile(ctx context.Context, linkID string, maxFiles int) (int64, bool, error) {
	var used int64
	err := st.w.GetContext(ctx, &used, st.w.Rebind(`UPDATE links SET uploaded_files = uploaded_files + 1
WHERE id = ? AND (? = 0 OR uploaded_files < ?) RETURNING uploaded_bytes`), linkID, maxFiles, maxFiles)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: reserve upload: %w", translate(err))
	}
	return used, true, nil
}

// ReserveUploadBytes implements sesame.AccessStore with one conditional UPDATE.
func (st *Store) ReserveUploadBytes(ctx context.Context, linkID string, n, maxBytes int64) (bool, error) {
	res, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE links SET uploaded_bytes = uploaded_bytes + ?
WHERE id = ? AND (? = 0 OR uploaded_bytes + ? <= ?)`), n, linkID, maxBytes, n, maxBytes)
	if err != nil {
		return false, fmt.Errorf("store: reserve upload bytes: %w", translate(err))
	}
	k, err := res.RowsAffected()
	return k == 1, err
}

// ReleaseUpload implements sesame.AccessStore: it gives back what a failed
// upload reserved.
func (st *Store) ReleaseUpload(ctx context.Context, linkID string, files int, bytes int64) error {
	return st.releaseUpload(ctx, st.w, linkID, files, bytes)
}

// releaseUpload gives back a reservation of the link's upload caps through
// ex (the write connection, or a transaction).
func (st *Store) releaseUpload(ctx context.Context, ex sqlx.ExecerContext, linkID string, files int, bytes int64) error {
	_, err := ex.ExecContext(ctx, st.w.Rebind(`UPDATE links SET uploaded_files = `+st.dialect.greatest+`(uploaded_files - ?, 0), uploaded_bytes = `+st.dialect.greatest+`(uploaded_bytes - ?, 0)
WHERE id = ?`), files, bytes, linkID)
	if err != nil {
		return fmt.Errorf("store: release upload: %w", translate(err))
	}
	return nil
}

// FreeBytes reports the space left for blobs on the data disk.
func (st *Store) FreeBytes() (int64, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(st.blobDir, &fs); err != nil {
		return 0, fmt.Errorf("store: statfs: %w", err)
	}
	return int64(fs.Bavail) * int64(fs.Bsize), nil
}
