package store_test

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// writeKey writes a new master key to a file of its own and returns its path.
func writeKey(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(p, store.NewMasterKey(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func openWithKey(t *testing.T, dir, keyFile string) (*store.Store, error) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, SecretKeyFile: keyFile,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Exclusive: true})
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}

func TestStore_SecretKeyFile(t *testing.T) {
	ctx := context.Background()

	t.Run("Shared", func(t *testing.T) {
		dir, key := t.TempDir(), writeKey(t)
		st, err := openWithKey(t, dir, key)
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := st.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
			t.Errorf("with secret_key_file set, the data directory got a secret.key too (stat: %v)", err)
		}

		// The same key file and database: the token works.
		st, err = openWithKey(t, dir, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Authenticate(ctx, secret); err != nil {
			t.Errorf("authenticate with the same key file: %v", err)
		}
		st.Close()

		// The same database under another key: its MACs differ, so the
		// token is unknown. This is what the key file is for.
		st, err = openWithKey(t, dir, writeKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Authenticate(ctx, secret); sesame.KindOf(err) != sesame.Unauthenticated {
			t.Errorf("authenticate under another key: got %v, want Unauthenticated", err)
		}
	})

	refused := []struct {
		name string
		body []byte // nil: no file
		want string
	}{
		{"Missing", nil, "does not exist"},
		{"Empty", []byte{}, "malformed: it has 0 bytes"},
		{"Short", make([]byte, 31), "malformed: it has 31 bytes"},
		{"TrailingNewline", append(store.NewMasterKey(), '\n'), "malformed: it has 33 bytes"},
		{"Text", []byte(strings.Repeat("ab", 32)), "malformed: it has 64 bytes"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			key := filepath.Join(t.TempDir(), "shared.key")
			if tt.body != nil {
				if err := os.WriteFile(key, tt.body, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(t.TempDir(), "data")
			_, err := openWithKey(t, dir, key)
			if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("open: got %v, want an error naming %s with %q", err, key, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused key created the data directory (stat: %v)", err)
			}
			if tt.body == nil {
				if _, err := os.Stat(key); !os.IsNotExist(err) {
					t.Errorf("a missing named key file was created (stat: %v)", err)
				}
			}
		})
	}

	t.Run("DefaultIsMade", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		st, err := openWithKey(t, dir, "")
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "secret.key"))
		if err != nil || fi.Size() != store.MasterKeySize || fi.Mode().Perm() != 0o600 {
			t.Fatalf("default key file: %v, %v; want %d bytes, mode 600", fi, err, store.MasterKeySize)
		}
		fp, err := store.KeyFileFingerprint(filepath.Join(dir, "secret.key"))
		if err != nil || fp != st.KeyFingerprint() {
			t.Errorf("fingerprint of the made key file: %q, %v; the store's is %q", fp, err, st.KeyFingerprint())
		}
	})
}

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestKeyFileFingerprint(t *testing.T) {
	a, b := writeKey(t), writeKey(t)
	fa, err := store.KeyFileFingerprint(a)
	if err != nil {
		t.Fatal(err)
	}
	if !fingerprintRE.MatchString(fa) {
		t.Errorf("fingerprint %q, want 16 hex digits", fa)
	}
	if again, err := store.KeyFileFingerprint(a); err != nil || again != fa {
		t.Errorf("the same key's fingerprint twice: %q then %q (%v)", fa, again, err)
	}
	st, err := openWithKey(t, t.TempDir(), a)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.KeyFingerprint(); got != fa {
		t.Errorf("store's fingerprint %q, want the file's %q", got, fa)
	}
	if fb, err := store.KeyFileFingerprint(b); err != nil || fb == fa {
		t.Errorf("two keys, one fingerprint %q (%v)", fa, err)
	}
	// It reveals nothing of the key: no hex run of it appears.
	master, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if h := hex.EncodeToString(master); strings.Contains(h, fa[:8]) {
		t.Errorf("fingerprint %q shows in the key's hex %s", fa, h)
	}
	if _, err := store.KeyFileFingerprint(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("fingerprint of a missing file: got nil error")
	}
}
