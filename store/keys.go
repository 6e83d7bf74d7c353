package store

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// MasterKeySize is the size of the master key, and of its file: the key
// file holds exactly these raw bytes and nothing else.
const MasterKeySize = 32

// Keys holds the secret keys derived from the server's master key.
type Keys struct {
	// MAC keys the HMACs under which token and URL secrets are looked up.
	MAC []byte
	// Seal keys AES-256-GCM for values that must be read back.
	Seal []byte
	// CSRF keys the tokens of the recipient pages' forms.
	CSRF []byte
	// Fingerprint names the master key without revealing it (see
	// Fingerprint), so that two instances can tell whether they share it.
	Fingerprint string
}

// NewMasterKey returns a new random master key, in the key file's format.
func NewMasterKey() []byte {
	master := make([]byte, MasterKeySize)
	rand.Read(master) // never fails
	return master
}

// LoadKeys reads the master key at path, creating it (mode 0600) on first
// use, and derives the working keys from it. It serves the default key
// file in the data directory.
func LoadKeys(path string) (*Keys, error) {
	master, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		master = NewMasterKey()
		err = writeKeyFile(path, master)
	}
	if err != nil {
		return nil, fmt.Errorf("store: secret key file %s: %w", path, err)
	}
	return deriveKeys(path, master)
}

// ReadKeys reads the master key at path, which must exist, and derives
// the working keys from it. It serves a key file that was named
// explicitly: such a file is shared by replicas, so a missing one is an
// error rather than a reason to make another key.
func ReadKeys(path string) (*Keys, error) {
	master, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: secret key file %s does not exist (sesame keygen writes a new key to standard output)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: secret key file %s: %w", path, err)
	}
	return deriveKeys(path, master)
}

// writeKeyFile creates the key file at path, readable by its owner only.
// It never replaces an existing file.
func writeKeyFile(path string, master []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(master); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// deriveKeys checks the master key read from path and derives the working
// keys from it.
func deriveKeys(path string, master []byte) (*Keys, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("store: secret key file %s is malformed: it has %d bytes, want the %d raw bytes sesame keygen writes", path, len(master), MasterKeySize)
	}
	derive := func(info string) ([]byte, error) {
		k, err := hkdf.Key(sha256.New, master, nil, info, 32)
		if err != nil {
			return nil, fmt.Errorf("store: derive %s: %w", info, err)
		}
		return k, nil
	}
	var err error
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
	id, err := derive("sesame fingerprint v1")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(id)
	k.Fingerprint = hex.EncodeToString(sum[:8])
	return k, nil
}

// KeyFileFingerprint returns the fingerprint of the master key in the
// file at path: 16 hex digits that are the same for the same key and
// reveal nothing of it. Instances that share a key share its fingerprint.
func KeyFileFingerprint(path string) (string, error) {
	k, err := ReadKeys(path)
	if err != nil {
		return "", err
	}
	return k.Fingerprint, nil
}

// KeyFingerprint returns the fingerprint of the store's master key (see
// KeyFileFingerprint).
func (st *Store) KeyFingerprint() string { return st.keys.Fingerprint }
