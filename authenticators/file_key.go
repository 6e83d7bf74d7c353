package authenticators

import (
	"context"
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/argon2"

	"github.com/sesame-share/sesame"
)

// The argon2id parameters of file keys. A file's key guards its bytes
// at rest, where anyone who copies the disk or the bucket may guess
// offline for as long as they like, so each guess costs more than a
// sign-in's: 64 MiB and 3 passes (RFC 9106's second recommendation, with
// one lane), a 16-byte salt. A file records its parameters, so they can
// change without touching the files protected before.
const (
	fileKeyMemory  = 64 * 1024
	fileKeyTime    = 3
	fileKeyThreads = 1
	fileKeySalt    = 16
	fileKeyLen     = 32
)

// The most a stored lock may ask of DeriveFileKey, so that a corrupt or
// hostile row can neither exhaust memory nor stall a slot for long.
const (
	maxFileKeyMemory = 256 * 1024
	maxFileKeyTime   = 10
)

var _ sesame.KeyDeriver = (*Password)(nil)

// FileKDF implements sesame.KeyDeriver.
func (p *Password) FileKDF() sesame.KDFParams {
	salt := make([]byte, fileKeySalt)
	rand.Read(salt) // never fails
	return sesame.KDFParams{Salt: salt, Time: fileKeyTime, Memory: fileKeyMemory, Threads: fileKeyThreads}
}

// DeriveFileKey implements sesame.KeyDeriver. It shares the hasher's
// slots: link passwords and file passwords together run at most
// GOMAXPROCS derivations at once.
func (p *Password) DeriveFileKey(ctx context.Context, password string, k sesame.KDFParams) (sesame.FileKey, error) {
	if k.Time < 1 || k.Time > maxFileKeyTime || k.Threads < 1 || k.Memory < 8*uint32(k.Threads) || k.Memory > maxFileKeyMemory || len(k.Salt) < 8 {
		return nil, fmt.Errorf("authenticators: file key parameters out of range")
	}
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	return argon2.IDKey([]byte(password), k.Salt, k.Time, k.Memory, k.Threads, fileKeyLen), nil
}
