package authenticators_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

// hash hashes password and fails the test on an error.
func hash(t *testing.T, p *authenticators.Password, password string) string {
	t.Helper()
	phc, err := p.Hash(context.Background(), password)
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	return phc
}

// verify calls Verify and turns a panic into an error, so that one bad
// input fails its case instead of the whole test binary.
func verify(ctx context.Context, p *authenticators.Password, phc, password string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return p.Verify(ctx, phc, password)
}

// cheapPHC is a PHC string for password with low cost parameters, made
// without the code under test.
func cheapPHC(password string, m, t uint32, p uint8) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func TestPassword_Hash(t *testing.T) {
	p := authenticators.NewPassword()
	const password = "correct horse battery staple"
	phc := hash(t, p, password)
	m := phcPattern.FindStringSubmatch(phc)
	if m == nil {
		t.Fatalf("got %q, want a PHC string matching %s", phc, phcPattern)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(m[1])
	if err != nil || len(salt) != 16 {
		t.Fatalf("salt %q: got %d bytes (%v), want 16", m[1], len(salt), err)
	}
	key, err := enc.DecodeString(m[2])
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: got %d bytes (%v), want 32", m[2], len(key), err)
	}
	// The key is argon2id of the password with the stated parameters.
	if want := argon2.IDKey([]byte(password), salt, 2, 19456, 1, 32); string(key) != string(want) {
		t.Errorf("got key %x, want argon2id(password, salt, t=2, m=19456, p=1) = %x", key, want)
	}
	if strings.Contains(phc, password) {
		t.Errorf("the PHC string holds the password")
	}
	if again := hash(t, p, password); again == phc {
		t.Errorf("two hashes of one password are equal (%s); want fresh salts", phc)
	}
}

func TestPassword_Verify(t *testing.T) {
	ctx := context.Background()
	p := authenticators.NewPassword()
	const password = "Grüße aus Köln 🐻"
	phc := hash(t, p, password)

	if err := verify(ctx, p, phc, password); err != nil {
		t.Errorf("right password: got %v, want nil", err)
	}
	for _, wrong := range []string{"", "grüße aus köln 🐻", password + " ", password[:len(password)-1]} {
		err := verify(ctx, p, phc, wrong)
		var se *sesame.Error
		if !errors.As(err, &se) || se.Kind != sesame.Unauthenticated {
			t.Errorf("wrong password %q: got %T %v, want a *sesame.Error of kind %v", wrong, err, err, sesame.Unauthenticated)
		}
	}

	t.Run("StoredParameters", func(t *testing.T) {
		// Verify uses the cost in the PHC string, so old hashes keep working
		// when the defaults change.
		old := cheapPHC("pw", 64, 1, 1)
		if err := verify(ctx, p, old, "pw"); err != nil {
			t.Errorf("right password, other parameters: got %v, want nil", err)
		}
		if err := verify(ctx, p, old, "px"); sesame.KindOf(err) != sesame.Unauthenticated {
			t.Errorf("wrong password, other parameters: got %v, want %v", err, sesame.Unauthenticated)
		}
	})

	t.Run("Malformed", func(t *testing.T) {
		good := cheapPHC("pw", 64, 1, 1)
		parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
		with := func(i int, v string) string {
			c := append([]string(nil), parts...)
			c[i] = v
			return strings.Join(c, "$")
		}
		for _, tt := range []struct {
			name string
			phc  string
		}{
			{"Empty", ""},
			{"Plain", "pw"},
			{"Bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
			{"Argon2i", with(1, "argon2i")},
			{"Version", with(2, "v=16")},
			{"VersionText", with(2, "v=x")},
			{"Params", with(3, "m=64,t=1")},
			{"ParamsText", with(3, "m=a,t=b,p=c")},
			{"SaltNotBase64", with(4, "!!!!")},
			{"KeyNotBase64", with(5, "!!!!")},
			{"ExtraPart", good + "$x"},
			{"MissingPart", strings.Join(parts[:5], "$")},
			{"ZeroLanes", with(3, "m=64,t=1,p=0")},
			{"ZeroPasses", with(3, "m=64,t=0,p=1")},
			{"EmptyKey", with(5, "")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := verify(ctx, p, tt.phc, "pw")
				if err == nil {
					t.Fatalf("Verify(%q) = nil, want an error", tt.phc)
				}
				if strings.HasPrefix(err.Error(), "panic: ") {
					t.Errorf("Verify(%q) panicked (%v), want an error", tt.phc, err)
				}
			})
		}
	})
}

// TestPassword_Concurrency runs more hashes at once than there are slots:
// the surplus waits for a slot instead of failing.
func TestPassword_Concurrency(t *testing.T) {
	p := authenticators.NewPassword()
	n := 2*runtime.GOMAXPROCS(0) + 1 // twice the slots, and one more
	var wg sync.WaitGroup
	phcs := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			phcs[i], errs[i] = p.Hash(context.Background(), fmt.Sprintf("password number %d", i))
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("hash %d: %v", i, errs[i])
			continue
		}
		if !phcPattern.MatchString(phcs[i]) || seen[phcs[i]] {
			t.Errorf("hash %d: got %q, want a fresh PHC string", i, phcs[i])
		}
		seen[phcs[i]] = true
	}
	// Slots are released: a verify after the flood still runs.
	if err := verify(context.Background(), p, phcs[0], "password number 0"); err != nil {
		t.Errorf("verify after the flood: %v", err)
	}
}

// TestPassword_CancelledContext checks that a cancelled context gets one
// answer. acquire selects between a free slot and ctx.Done(); when both are
// ready Go picks one at random, so without a check of ctx.Err() first the
// same call sometimes runs and sometimes fails.
func TestPassword_CancelledContext(t *testing.T) {
	p := authenticators.NewPassword()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	phc := cheapPHC("pw", 64, 1, 1)
	ran, cancelled := 0, 0
	for range 64 {
		switch err := verify(ctx, p, phc, "pw"); {
		case err == nil:
			ran++
		case errors.Is(err, context.Canceled):
			cancelled++
		default:
			t.Fatalf("got %v, want nil or %v", err, context.Canceled)
		}
	}
	if ran > 0 && cancelled > 0 {
		t.Errorf("with a cancelled context and free slots, %d of 64 verifies ran and %d returned %v; want one outcome",
			ran, cancelled, context.Canceled)
	}
}

// TestPassword_MalformedKeepsSlots checks that bad PHC strings do not use
// up the hashing slots: after as many failures as there are slots, a good
// verify still gets one.
func TestPassword_MalformedKeepsSlots(t *testing.T) {
	p := authenticators.NewPassword()
	good := cheapPHC("pw", 64, 1, 1)
	bad := strings.Replace(good, "p=1", "p=0", 1)
	for range 2 * runtime.GOMAXPROCS(0) { // twice as many as there are slots
		if err := verify(context.Background(), p, bad, "pw"); err == nil {
			t.Fatalf("Verify(%q) = nil, want an error", bad)
		}
	}
	// Without a free slot this waits for the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := verify(ctx, p, good, "pw"); err != nil {
		t.Errorf("verify after malformed inputs: got %v, want nil (slots leaked?)", err)
	}
}
