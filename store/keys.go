package store

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Keys holds the secret keys derived from the server's master key.
type Keys struct {
	// MAC keys the HMACs under which token and URL secrets are looked up.
	MAC []byte
	// Seal keys AES-256-GCM for values that must be read back.
	Seal []byte
	// CSRF keys the tokens of the recipient pages' forms.
	CSRF []byte
}

// LoadKeys reads the 32-byte master key at path, creating it (mode 0600) on
// first use, and derives the working keys from it.
func LoadKeys(path string) (*Keys, error) {
	master, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		master = make([]byte, 32)
		rand.Read(master) // never fails
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("store: create key: %w", err)
		}
		if _, err := f.Write(master); err != nil {
			f.Close()
			return nil, fmt.Errorf("store: write key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("store: sync key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("store: close key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("store: read key: %w", err)
	}
	if len(master) != 32 {
		return nil, fmt.Errorf("store: key %s has %d bytes, want 32", path, len(master))
	}
	derive := func(info string) ([]byte, error) {
		k, err := hkdf.Key(sha256.New, master, nil, info, 32)
		if err != nil {
			return nil, fmt.Errorf("store: derive %s: %w", info, err)
		}
		return k, nil
	}
	k := &Keys{}
	if k.MAC, err = derive("sesame mac v1"); err != nil {
		return nil, err
	}
	if k.Seal, err = derive("sesame seal v1"); err != nil {
		return nil, err
	}
	if k.CSRF, err = derive("sesame csrf v1"); err != nil {
		return nil, err
	}
	return k, nil
}
