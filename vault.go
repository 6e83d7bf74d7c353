package sesame

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"log/slog"
)

// Password-protected files. A protected file is stored encrypted under a
// key derived from its password with argon2id (a random salt per file;
// the parameters are recorded with it). Whatever password_algorithm the
// client names, the cipher is AES-256-GCM over segments of the plaintext
// (vault_stream.go), so that a Range request decrypts only the segments it
// covers. The object's row keeps a FileLock, which holds no secret: what
// the key derivation needs, and a check value that tells a right password
// from a wrong one at the cost of one derivation.

// PasswordAlgorithms are the values password_algorithm may take, as the
// reference names them. The name is echoed in metadata_protected; the
// cipher is always segmented AES-256-GCM.
var PasswordAlgorithms = []string{"AES-CFB-128", "AES-CFB-256", "AES-GCM-256"}

// DefaultPasswordAlgorithm is the name a protected file gets when the
// client names none: the one that says what the cipher is.
const DefaultPasswordAlgorithm = "AES-GCM-256"

// MaxFilePasswordLen bounds a file password, in bytes.
const MaxFilePasswordLen = 1024

// The lock format.
const (
	lockVersion      = 1
	lockPrefixLen    = 7  // the random part of every segment's nonce
	lockCheckLen     = 32 // HMAC-SHA256 over the rest of the lock
	defaultSegShift  = 16 // segments of 64 KiB of plaintext
	minSegShift      = 6
	maxSegShift      = 24
	fileKeyLen       = 32
	maxLockSaltLen   = 64
	maxAlgorithmLen  = 32
	subkeyEncryption = "sesame file v1 encryption"
	subkeyCheck      = "sesame file v1 check"
)

// KDFParams are the argon2id parameters of one file's key: its salt, the
// passes, the memory in KiB and the lanes.
type KDFParams struct {
	Salt    []byte
	Time    uint32
	Memory  uint32
	Threads uint8
}

// FileKey is the key derived from a file's password. It is a secret: it
// never leaves the server except sealed under the server's key, and it
// prints as a placeholder.
type FileKey []byte

func (FileKey) String() string { return "[file key]" }

// GoString keeps %#v from printing the key.
func (FileKey) GoString() string { return "[file key]" }

// LogValue keeps slog from printing the key.
func (FileKey) LogValue() slog.Value { return slog.StringValue("[file key]") }

// KeyDeriver turns file passwords into keys: argon2id in package
// authenticators, with a bound on how many derivations run at once.
type KeyDeriver interface {
	// FileKDF returns the parameters (and a fresh random salt) for the
	// key of a new file.
	FileKDF() KDFParams
	// DeriveFileKey derives the key of password under p. It fails when
	// p asks for more than the deriver allows (a corrupt row: an
	// Internal error), and with ctx's error when ctx ends while it waits
	// for a slot.
	DeriveFileKey(ctx context.Context, password string, p KDFParams) (FileKey, error)
}

// FileLock is what the row of a protected file records: how its key is
// derived, how its bytes are cut and sealed, and a check value. It holds
// no secret; a wrong password is known as such only after a derivation.
type FileLock struct {
	// Algorithm is the password_algorithm the client named, echoed as
	// metadata_protected["vault-password-algorithm"].
	Algorithm string
	KDF       KDFParams
	// SegShift is log2 of the plaintext bytes in a segment.
	SegShift uint8
	// Prefix begins the nonce of every segment.
	Prefix [lockPrefixLen]byte
	// Check is an HMAC of the rest of the lock under a key derived from
	// the file key: only the right key reproduces it.
	Check [lockCheckLen]byte
}

// ErrFilePasswordRequired answers a read of a protected file that sends
// no password.
var ErrFilePasswordRequired = FieldErr("FieldRequired", "/password", "this file is password-protected; send its password")

// ErrWrongFilePassword answers every password that does not open a file,
// whatever is wrong with it.
var ErrWrongFilePassword = FieldErr("BadState", "/password", "the password does not open this file")

// NewFileLock makes the lock and key of a file about to be protected
// with password: fresh salt, fresh nonce prefix.
func NewFileLock(ctx context.Context, d KeyDeriver, password, algorithm string) (*FileLock, FileKey, error) {
	if algorithm == "" {
		algorithm = DefaultPasswordAlgorithm
	}
	l := &FileLock{Algorithm: algorithm, KDF: d.FileKDF(), SegShift: defaultSegShift}
	rand.Read(l.Prefix[:]) // never fails
	key, err := d.DeriveFileKey(ctx, password, l.KDF)
	if err != nil {
		return nil, nil, err
	}
	l.Check = l.checkValue(key)
	return l, key, nil
}

// Unlock derives the key of password and returns it when it opens l;
// ErrWrongFilePassword otherwise. Every wrong password costs one
// derivation and gets the same answer.
func (l *FileLock) Unlock(ctx context.Context, d KeyDeriver, password string) (FileKey, error) {
	if password == "" {
		return nil, ErrFilePasswordRequired
	}
	if len(password) > MaxFilePasswordLen {
		return nil, ErrWrongFilePassword
	}
	key, err := d.DeriveFileKey(ctx, password, l.KDF)
	if err != nil {
		return nil, err
	}
	if !l.Opens(key) {
		return nil, ErrWrongFilePassword
	}
	return key, nil
}

// Opens reports whether key is the key of l, in constant time: a key
// kept from before the file's password changed no longer opens it.
func (l *FileLock) Opens(key FileKey) bool {
	if len(key) != fileKeyLen {
		return false
	}
	want := l.checkValue(key)
	return subtle.ConstantTimeCompare(want[:], l.Check[:]) == 1
}

func (l *FileLock) checkValue(key FileKey) [lockCheckLen]byte {
	var out [lockCheckLen]byte
	m := hmac.New(sha256.New, subkey(key, subkeyCheck))
	m.Write(l.body())
	copy(out[:], m.Sum(nil))
	return out
}

// subkey derives the key for one use from a file key.
func subkey(key FileKey, use string) []byte {
	k, err := hkdf.Expand(sha256.New, key, use, 32)
	if err != nil {
		panic("sesame: hkdf: " + err.Error()) // only for lengths past 255 blocks
	}
	return k
}

// body is the lock's encoding without its check value: version,
// segment size, argon2id parameters, salt, nonce prefix, algorithm.
func (l *FileLock) body() []byte {
	b := make([]byte, 0, 16+len(l.KDF.Salt)+lockPrefixLen+len(l.Algorithm))
	b = append(b, lockVersion, l.SegShift)
	b = binary.BigEndian.AppendUint32(b, l.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, l.KDF.Memory)
	b = append(b, l.KDF.Threads, byte(len(l.KDF.Salt)))
	b = append(b, l.KDF.Salt...)
	b = append(b, l.Prefix[:]...)
	b = append(b, byte(len(l.Algorithm)))
	return append(b, l.Algorithm...)
}

// MarshalBinary encodes l for the object's row.
func (l *FileLock) MarshalBinary() ([]byte, error) {
	if len(l.KDF.Salt) > maxLockSaltLen || len(l.Algorithm) > maxAlgorithmLen {
		return nil, errors.New("sesame: file lock too large")
	}
	return append(l.body(), l.Check[:]...), nil
}

var errBadLock = errors.New("sesame: malformed file lock")

// ParseFileLock decodes what MarshalBinary encoded.
func ParseFileLock(b []byte) (*FileLock, error) {
	if len(b) < 12 || b[0] != lockVersion {
		return nil, errBadLock
	}
	l := &FileLock{SegShift: b[1]}
	l.KDF.Time = binary.BigEndian.Uint32(b[2:])
	l.KDF.Memory = binary.BigEndian.Uint32(b[6:])
	l.KDF.Threads = b[10]
	rest := b[11:]
	take := func(n int) []byte {
		if n > len(rest) {
			return nil
		}
		out := rest[:n]
		rest = rest[n:]
		return out
	}
	saltLen := int(rest[0])
	rest = rest[1:]
	salt := take(saltLen)
	prefix := take(lockPrefixLen)
	if salt == nil || prefix == nil || len(rest) < 1 {
		return nil, errBadLock
	}
	algLen := int(rest[0])
	rest = rest[1:]
	alg := take(algLen)
	check := take(lockCheckLen)
	if alg == nil || check == nil || len(rest) != 0 || l.SegShift < minSegShift || l.SegShift > maxSegShift {
		return nil, errBadLock
	}
	l.KDF.Salt = append([]byte(nil), salt...)
	copy(l.Prefix[:], prefix)
	l.Algorithm = string(alg)
	copy(l.Check[:], check)
	return l, nil
}

// CheckFilePassword validates a password and its algorithm as a request
// sends them; source and algSource are their JSON pointers.
func CheckFilePassword(errs *Problems, source, password, algSource, algorithm string) {
	switch {
	case password == "":
		errs.Addf("BelowMinLength", source, "%s must not be empty", fieldName(source))
	case len(password) > MaxFilePasswordLen:
		errs.Addf("AboveMaxLength", source, "%s must be at most %d bytes", fieldName(source), MaxFilePasswordLen)
	}
	if algorithm == "" {
		return
	}
	for _, a := range PasswordAlgorithms {
		if a == algorithm {
			return
		}
	}
	errs.Addf("NotEnumMember", algSource, "%s must be one of AES-CFB-128, AES-CFB-256 or AES-GCM-256, not %q", fieldName(algSource), algorithm)
}
