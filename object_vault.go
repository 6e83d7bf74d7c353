package sesame

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// checkPassword validates the password fields of a new file.
func (s *ObjectService) checkPassword(in FileCreate) error {
	if in.Password == nil {
		if in.PasswordAlgorithm != "" {
			return FieldErr("IsDependentOn", "/password_algorithm", "password_algorithm goes with password")
		}
		return nil
	}
	var errs Problems
	CheckFilePassword(&errs, "/password", *in.Password, "/password_algorithm", in.PasswordAlgorithm)
	if err := errs.Err(); err != nil {
		return err
	}
	return s.canProtect("/password")
}

// canProtect refuses password protection when no key deriver is wired.
func (s *ObjectService) canProtect(source string) error {
	if s.Deriver == nil {
		return FieldErr("UnexpectedProperty", source, "password-protected files are not available on this server")
	}
	return nil
}

// StageFile receives the payload of in, once in is known to be valid. A
// file with a password is sealed as it streams in, under a new lock, so
// its plaintext is never stored.
func (s *ObjectService) StageFile(ctx context.Context, in FileCreate, r io.Reader, sniffName string) (*Upload, error) {
	if err := s.CheckFile(ctx, in); err != nil {
		return nil, err
	}
	if in.Password == nil {
		return s.Blobs.Stage(ctx, r, sniffName, s.Policy.MaxFileSize)
	}
	lock, key, err := NewFileLock(ctx, s.Deriver, *in.Password, in.PasswordAlgorithm)
	if err != nil {
		return nil, err
	}
	return s.stageSealed(ctx, r, sniffName, s.Policy.MaxFileSize, lock, key)
}

func (s *ObjectService) stageSealed(ctx context.Context, r io.Reader, name string, max int64, lock *FileLock, key FileKey) (*Upload, error) {
	wrap, err := lock.Sealer(key)
	if err != nil {
		return nil, err
	}
	up, err := s.Blobs.StageSealed(ctx, r, name, max, wrap)
	if err != nil {
		return nil, err
	}
	up.Lock = lock
	return up, nil
}

// errPasswordAfterFile refuses a multipart put whose password came after
// the file: the bytes were staged before anyone knew to seal them.
var errPasswordAfterFile = FieldErr("BadState", "/password",
	"send the 'request' part before the file part when the file has a password, so that its bytes are never stored unencrypted")

// Unlock returns the key that opens o with password: nil for a file
// without a password (whatever password says); ErrFilePasswordRequired
// or ErrWrongFilePassword when password does not open it.
func (s *ObjectService) Unlock(ctx context.Context, o *Object, password string) (FileKey, error) {
	if o.Lock == nil || o.IsFolder() {
		return nil, nil
	}
	if err := s.canProtect("/password"); err != nil {
		return nil, err
	}
	return o.Lock.Unlock(ctx, s.Deriver, password)
}

// openFile opens o's contents as plaintext; a protected file needs the
// key that opens it.
func openFile(ctx context.Context, blobs BlobStore, o *Object, key FileKey) (Blob, error) {
	if o.Lock == nil {
		return blobs.OpenBlob(ctx, o.BlobKey)
	}
	if key == nil {
		return nil, ErrFilePasswordRequired
	}
	if !o.Lock.Opens(key) {
		return nil, ErrWrongFilePassword
	}
	raw, err := blobs.OpenBlob(ctx, o.BlobKey)
	if err != nil {
		return nil, err
	}
	b, err := o.Lock.OpenSealed(raw, key, o.Size)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return b, nil
}

// checkPasswordChange validates add_password, add_password_algorithm and
// remove_password.
func checkPasswordChange(errs *Problems, upd ObjectUpdate) {
	if upd.AddPassword != nil {
		CheckFilePassword(errs, "/add_password", *upd.AddPassword, "/add_password_algorithm", upd.AddPasswordAlgorithm)
	} else if upd.AddPasswordAlgorithm != "" {
		errs.Addf("IsDependentOn", "/add_password_algorithm", "add_password_algorithm goes with add_password")
	}
	if upd.RemovePassword != nil && *upd.RemovePassword == "" {
		errs.Addf("BelowMinLength", "/remove_password", "remove_password must not be empty")
	}
}

// reseal prepares a password change of o: it checks the current password
// (remove_password), reads the file and stores it anew, sealed under a
// new lock (add_password) or in plain, and sets upd.Reseal for the store
// to swap in.
func (s *ObjectService) reseal(ctx context.Context, o *Object, upd *ObjectUpdate) error {
	src := "/add_password"
	if upd.RemovePassword != nil {
		src = "/remove_password"
	}
	if o.IsFolder() {
		return FieldErr("BadState", src, "%s is a folder; passwords protect files", o.Path)
	}
	if err := s.canProtect(src); err != nil {
		return err
	}
	var oldKey FileKey
	switch {
	case upd.RemovePassword != nil && o.Lock == nil:
		return FieldErr("BadState", "/remove_password", "the file has no password to remove")
	case upd.RemovePassword != nil:
		key, err := o.Lock.Unlock(ctx, s.Deriver, *upd.RemovePassword)
		if err != nil {
			return passwordAt(err, "/remove_password")
		}
		oldKey = key
	case o.Lock != nil:
		return FieldErr("BadState", "/add_password", "the file has a password already; send the current one as remove_password to change it")
	}
	var lock *FileLock
	var key FileKey
	if upd.AddPassword != nil {
		var err error
		if lock, key, err = NewFileLock(ctx, s.Deriver, *upd.AddPassword, upd.AddPasswordAlgorithm); err != nil {
			return err
		}
	}
	up, err := s.restage(ctx, o, oldKey, lock, key)
	if err != nil {
		return err
	}
	upd.Reseal = &Reseal{From: o.BlobKey, Upload: up}
	return nil
}

// restage reads o's plaintext and stages it anew: sealed under lock, or
// in plain when lock is nil. What it read must be the file it describes.
func (s *ObjectService) restage(ctx context.Context, o *Object, oldKey FileKey, lock *FileLock, key FileKey) (*Upload, error) {
	b, err := openFile(ctx, s.Blobs, o, oldKey)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var up *Upload
	if lock != nil {
		up, err = s.stageSealed(ctx, b, o.Name, 0, lock, key)
	} else {
		up, err = s.Blobs.Stage(ctx, b, o.Name, 0)
	}
	if err != nil {
		if errors.Is(err, ErrSealedBroken) {
			return nil, fmt.Errorf("sesame: re-store %s: %w", o.ID, err)
		}
		return nil, err
	}
	if up.Size != o.Size || (o.SHA256 != "" && up.SHA256 != o.SHA256) {
		s.Discard(ctx, up)
		return nil, fmt.Errorf("sesame: re-store %s: read %d bytes with sha256 %s, the row says %d and %s", o.ID, up.Size, up.SHA256, o.Size, o.SHA256)
	}
	return up, nil
}

// passwordAt points a password error at the field that sent the password.
func passwordAt(err error, source string) error {
	switch {
	case errors.Is(err, ErrWrongFilePassword):
		return FieldErr("BadState", source, "the password does not open this file")
	case errors.Is(err, ErrFilePasswordRequired):
		return FieldErr("FieldRequired", source, "%s must not be empty", fieldName(source))
	}
	return err
}

// refuseProtected refuses an archive that would hold a protected file:
// get_archive takes no password. ids are the ids asked for, entries what
// they expand into; the error points at the id that brought the file in.
func refuseProtected(ids []string, entries []ArchiveEntry) error {
	paths := map[string]string{}
	for _, e := range entries {
		paths[e.Object.ID] = e.Object.Path
	}
	for _, e := range entries {
		if e.Object.Lock == nil || e.Object.IsFolder() {
			continue
		}
		src := "/ids"
		for i, id := range ids {
			p := paths[id]
			if id == e.Object.ID || p != "" && len(e.Object.Path) > len(p) && e.Object.Path[:len(p)+1] == p+"/" {
				src = fmt.Sprintf("/ids/%d", i)
				break
			}
		}
		return FieldErr("BadState", src, "%s is password-protected, and get_archive takes no password; download it with get", e.Object.Path)
	}
	return nil
}
