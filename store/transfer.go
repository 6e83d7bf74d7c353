package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/sesame-share/sesame"
)

// pendingSpec is how a pending upload's request is kept.
type pendingSpec struct {
	Placement sesame.Placement
	Metadata  map[string]string
	Tags      []string
	Declared  sesame.Declared
	FileTTL   sesame.FileTTL `json:",omitempty"`
	// Lock seals a protected file's bytes as they arrive, under the key
	// in the row's file_key (sealed under the server's key, and dropped
	// once the upload is done).
	Lock []byte `json:",omitempty"`
}

type failureJSON struct {
	Kind    sesame.Kind
	Message string
	Fields  []sesame.FieldError
}

type pendingRow struct {
	ID       string         `db:"id"`
	TokenID  string         `db:"token_id"`
	Method   string         `db:"method"`
	Spec     string         `db:"spec"`
	Expires  string         `db:"expires_at"`
	Status   string         `db:"status"`
	ObjectID string         `db:"object_id"`
	Failure  sql.NullString `db:"failure"`
	Created  string         `db:"created_at"`
	Key      []byte         `db:"file_key"`
}

const pendingCols = `id, token_id, method, spec, expires_at, status, object_id, failure, created_at, file_key`

func (st *Store) pending(r *pendingRow) (*sesame.PendingUpload, error) {
	var spec pendingSpec
	if err := json.Unmarshal([]byte(r.Spec), &spec); err != nil {
		return nil, fmt.Errorf("store: pending upload %s: %w", r.ID, err)
	}
	p := &sesame.PendingUpload{ID: r.ID, TokenID: r.TokenID, Method: r.Method, Expires: parseTime(r.Expires),
		Status: r.Status, ObjectID: r.ObjectID, Created: parseTime(r.Created),
		Spec: sesame.FileCreate{Placement: spec.Placement, Metadata: spec.Metadata, Tags: spec.Tags, Declared: spec.Declared, FileTTL: spec.FileTTL}}
	if spec.Lock != nil {
		p.Lock = parseLock(spec.Lock)
		key, err := st.unsealKey(r.Key, "upload\x00"+r.ID)
		if err != nil {
			return nil, fmt.Errorf("store: pending upload %s key: %w", r.ID, err)
		}
		p.Key = key
	}
	if r.Failure.Valid {
		var f failureJSON
		if err := json.Unmarshal([]byte(r.Failure.String), &f); err != nil {
			return nil, fmt.Errorf("store: pending upload %s failure: %w", r.ID, err)
		}
		p.Failure = &sesame.Error{Kind: f.Kind, Message: f.Message, Fields: f.Fields}
	}
	return p, nil
}

// CreatePendingUpload implements sesame.PendingUploads.
func (st *Store) CreatePendingUpload(ctx context.Context, p *sesame.PendingUpload) (string, error) {
	ps := pendingSpec{Placement: p.Spec.Placement, Metadata: p.Spec.Metadata, Tags: p.Spec.Tags, Declared: p.Spec.Declared, FileTTL: p.Spec.FileTTL}
	var key []byte
	if p.Lock != nil {
		lock, err := p.Lock.MarshalBinary()
		if err != nil {
			return "", fmt.Errorf("store: pending spec: %w", err)
		}
		if key, err = st.sealKey(p.Key, "upload\x00"+p.ID); err != nil {
			return "", err
		}
		ps.Lock = lock
	}
	spec, err := json.Marshal(ps)
	if err != nil {
		return "", fmt.Errorf("store: pending spec: %w", err)
	}
	now := st.nowUTC()
	p.Created, p.Status = now, sesame.PendingWaiting
	secret := newSecret("")
	_, err = st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO pending_uploads (id, token_id, secret_mac, method, spec, expires_at, status, created_at, file_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.TokenID, st.mac("upload url", secret), p.Method, string(spec), sesame.FormatTime(p.Expires), p.Status, sesame.FormatTime(now), key)
	if err != nil {
		return "", fmt.Errorf("store: create pending upload: %w", translate(err))
	}
	return secret, nil
}

// ClaimPendingUpload implements sesame.PendingUploads. The claim is one
// conditional UPDATE, so two uploads to one URL cannot both win.
func (st *Store) ClaimPendingUpload(ctx context.Context, secret string) (*sesame.PendingUpload, error) {
	var r pendingRow
	err := st.w.GetContext(ctx, &r, st.w.Rebind(`UPDATE pending_uploads SET status = ? WHERE secret_mac = ? AND status = ? AND expires_at > ? RETURNING `+pendingCols),
		sesame.PendingBusy, st.mac("upload url", secret), sesame.PendingWaiting, sesame.FormatTime(st.nowUTC()))
	if err == sql.ErrNoRows {
		return nil, sesame.Errorf(sesame.NotFound, "This upload URL is unknown, used or expired.")
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim upload: %w", translate(err))
	}
	return st.pending(&r)
}

// FinishPendingUpload implements sesame.PendingUploads. The URL stays used
// either way; polling reports the object or the failure. The key of a
// protected file is dropped: its bytes are in.
func (st *Store) FinishPendingUpload(ctx context.Context, id, objectID string, failure *sesame.Error) error {
	status, fail := sesame.PendingDone, sql.NullString{}
	if failure != nil {
		status = sesame.PendingFailed
		b, _ := json.Marshal(failureJSON{Kind: failure.Kind, Message: failure.Message, Fields: failure.Fields}) // plain values
		fail = sql.NullString{String: string(b), Valid: true}
	}
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE pending_uploads SET status = ?, object_id = ?, failure = ?, file_key = NULL WHERE id = ?`), status, objectID, fail, id)
	if err != nil {
		return fmt.Errorf("store: finish upload: %w", translate(err))
	}
	return nil
}

// PendingUploadByID implements sesame.PendingUploads.
func (st *Store) PendingUploadByID(ctx context.Context, tokenID, id string) (*sesame.PendingUpload, error) {
	var r pendingRow
	err := st.db.GetContext(ctx, &r, st.db.Rebind(`SELECT `+pendingCols+` FROM pending_uploads WHERE id = ? AND token_id = ?`), id, tokenID)
	if err == sql.ErrNoRows {
		return nil, sesame.Errorf(sesame.NotFound, "No request has the id %s.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: pending upload: %w", translate(err))
	}
	return st.pending(&r)
}

// CreateGrant implements sesame.Grants.
func (st *Store) CreateGrant(ctx context.Context, g *sesame.Grant) (string, error) {
	ids, _ := json.Marshal(g.ObjectIDs) // a string slice always marshals
	secret := newSecret("")
	now := st.nowUTC()
	mac := st.mac("download url", secret)
	key, err := st.sealKey(g.Key, "grant\x00"+string(mac))
	if err != nil {
		return "", err
	}
	_, err = st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO download_grants (secret_mac, bucket_id, object_ids, archive, expires_at, created_at, file_key) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		mac, st.bucketOrDefault(g.BucketID), string(ids), g.Archive, sesame.FormatTime(g.Expires), sesame.FormatTime(now), key)
	if err != nil {
		return "", fmt.Errorf("store: create grant: %w", translate(err))
	}
	return secret, nil
}

// GrantBySecret implements sesame.Grants.
func (st *Store) GrantBySecret(ctx context.Context, secret string) (*sesame.Grant, error) {
	var r struct {
		BucketID  string `db:"bucket_id"`
		ObjectIDs string `db:"object_ids"`
		Archive   string `db:"archive"`
		Expires   string `db:"expires_at"`
		Key       []byte `db:"file_key"`
	}
	mac := st.mac("download url", secret)
	err := st.db.GetContext(ctx, &r, st.db.Rebind(`SELECT bucket_id, object_ids, archive, expires_at, file_key FROM download_grants WHERE secret_mac = ? AND expires_at > ?`),
		mac, sesame.FormatTime(st.nowUTC()))
	if err == sql.ErrNoRows {
		return nil, sesame.Errorf(sesame.NotFound, "This download URL is unknown or expired.")
	}
	if err != nil {
		return nil, fmt.Errorf("store: grant: %w", translate(err))
	}
	g := &sesame.Grant{BucketID: r.BucketID, Archive: r.Archive, Expires: parseTime(r.Expires)}
	if err := json.Unmarshal([]byte(r.ObjectIDs), &g.ObjectIDs); err != nil {
		return nil, fmt.Errorf("store: grant ids: %w", err)
	}
	if g.Key, err = st.unsealKey(r.Key, "grant\x00"+string(mac)); err != nil {
		return nil, fmt.Errorf("store: grant key: %w", err)
	}
	return g, nil
}
