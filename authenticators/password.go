// Package authenticators proves who a recipient is: passwords checked
// against argon2id hashes, and (later) one-time codes by email and SMS.
package authenticators

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/sesame-share/sesame"
)

// Argon2id parameters (OWASP's minimum for argon2id): 19 MiB, 2 passes,
// 1 lane, a 16-byte salt and a 32-byte key.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonSalt    = 16
	argonKey     = 32
)

// Password hashes and verifies passwords with argon2id. At most
// GOMAXPROCS hashes run at once, one per CPU they can use: a flood of
// sign-ins queues instead of holding 19 MiB per hash in flight, and more
// hashes at once would not finish sooner.
type Password struct {
	slots chan struct{}
}

var _ sesame.PasswordHasher = (*Password)(nil)

// NewPassword returns a hasher bounded to GOMAXPROCS concurrent hashes.
func NewPassword() *Password {
	return &Password{slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

func (p *Password) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Password) release() { <-p.slots }

// Hash implements sesame.PasswordHasher. The result is a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func (p *Password) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSalt)
	rand.Read(salt) // never fails
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer p.release()
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKey)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify implements sesame.PasswordHasher, with the parameters stored in
// the PHC string and a constant-time comparison.
func (p *Password) Verify(ctx context.Context, phc, password string) error {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return fmt.Errorf("authenticators: not an argon2id PHC string")
	}
	var version int
	var m uint32
	var t uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("authenticators: argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil {
		return fmt.Errorf("authenticators: argon2 parameters %q: %w", parts[3], err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("authenticators: argon2 salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("authenticators: argon2 key: %w", err)
	}
	// Bound what a stored string can ask for: a corrupt or hostile row
	// must not panic argon2 or exhaust memory.
	if t < 1 || t > 10 || threads < 1 || m < 8*uint32(threads) || m > 256*1024 || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return fmt.Errorf("authenticators: argon2 parameters out of range")
	}
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	got := argon2.IDKey([]byte(password), salt, t, m, threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return &sesame.Error{Kind: sesame.Unauthenticated, Message: "That password is not right."}
	}
	return nil
}
