package sesame

import (
	"context"
	"errors"
)

// SessionKeys keeps the keys of the protected files that recipients have
// unlocked: sealed under the server's key, for as long as the session
// that unlocked them lives, so a recipient gives each file's password
// once per visit.
type SessionKeys interface {
	// SaveSessionKey keeps key for s and objectID until s ends or
	// expires.
	SaveSessionKey(ctx context.Context, s *Session, objectID string, key FileKey) error
	// SessionKey returns the key that the live session sessionID keeps
	// for objectID; NotFound when it keeps none.
	SessionKey(ctx context.Context, sessionID, objectID string) (FileKey, error)
	// SessionKeyIDs lists the objects whose keys the session keeps.
	SessionKeyIDs(ctx context.Context, sessionID string) ([]string, error)
}

// ErrFileLocked answers a recipient who opens a protected file before
// giving its password in this visit.
var ErrFileLocked = Errorf(Forbidden, "This file is protected by a password.")

// errWrongFilePasswordHere is what a recipient hears for every password
// that does not open a file.
var errWrongFilePasswordHere = Errorf(Unauthenticated, "That password does not open this file.")

// errArchiveLocked refuses an archive with protected files that the visit
// has not unlocked.
var errArchiveLocked = Errorf(Forbidden, "Some of these files are protected by a password. Open each of them with its password first, or leave them out.")

// UnlockFile checks password against the protected file that id names
// within the visit's link, and keeps its key for the rest of the session.
// Wrong passwords count against the visitor's address as wrong sign-ins
// do, and are audited. A file without a password needs none.
func (ps *PortalService) UnlockFile(ctx context.Context, v *Visit, id, password string) (*Object, error) {
	if err := v.CanDownload(); err != nil {
		return nil, err
	}
	o, err := ps.Resolve(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if o.IsFolder() || o.Lock == nil {
		return o, nil
	}
	if ps.Deriver == nil || ps.FileKeys == nil {
		return o, errors.New("sesame: no key deriver or session key store for protected files")
	}
	if err := ps.checkBackoff(ctx, v); err != nil {
		return o, err
	}
	key, err := o.Lock.Unlock(ctx, ps.Deriver, password)
	if errors.Is(err, ErrWrongFilePassword) || errors.Is(err, ErrFilePasswordRequired) {
		if _, err := ps.Access.RecordBackoffFailure(ctx, v.backoffKey(), ps.now()); err != nil {
			return o, err
		}
		ps.audit(ctx, v, "file.unlock", "failure:401", o.ID, nil)
		return o, errWrongFilePasswordHere
	}
	if err != nil {
		return o, err
	}
	if err := ps.FileKeys.SaveSessionKey(ctx, v.Session, o.ID, key); err != nil {
		return o, err
	}
	ps.audit(ctx, v, "file.unlock", "success", o.ID, nil)
	return o, nil
}

// fileKey returns the key the visit keeps for o: nil for a file without
// a password, ErrFileLocked when the visit has not unlocked it (or
// unlocked it before its password changed).
func (ps *PortalService) fileKey(ctx context.Context, v *Visit, o *Object) (FileKey, error) {
	if o.Lock == nil {
		return nil, nil
	}
	if v.Session == nil || ps.FileKeys == nil {
		return nil, ErrFileLocked
	}
	key, err := ps.FileKeys.SessionKey(ctx, v.Session.ID, o.ID)
	switch {
	case KindOf(err) == NotFound:
		return nil, ErrFileLocked
	case err != nil:
		return nil, err
	case !o.Lock.Opens(key):
		return nil, ErrFileLocked
	}
	return key, nil
}

// Locked reports whether o is a protected file that the visit has not
// unlocked.
func (ps *PortalService) Locked(ctx context.Context, v *Visit, o *Object) (bool, error) {
	_, err := ps.fileKey(ctx, v, o)
	if errors.Is(err, ErrFileLocked) {
		return true, nil
	}
	return false, err
}

// Unlocked returns the ids of the files whose keys the visit keeps.
func (ps *PortalService) Unlocked(ctx context.Context, v *Visit) (map[string]bool, error) {
	out := map[string]bool{}
	if v.Session == nil || ps.FileKeys == nil {
		return out, nil
	}
	ids, err := ps.FileKeys.SessionKeyIDs(ctx, v.Session.ID)
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// checkArchiveKeys refuses an archive holding a protected file that the
// visit has not unlocked.
func (ps *PortalService) checkArchiveKeys(ctx context.Context, v *Visit, entries []ArchiveEntry) error {
	var unlocked map[string]bool
	for _, e := range entries {
		if e.Object.Lock == nil || e.Object.IsFolder() {
			continue
		}
		if unlocked == nil {
			var err error
			if unlocked, err = ps.Unlocked(ctx, v); err != nil {
				return err
			}
		}
		if !unlocked[e.Object.ID] {
			return errArchiveLocked
		}
	}
	return nil
}
