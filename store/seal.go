package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// seal encrypts plaintext with AES-256-GCM under the seal key, bound to
// aad. The nonce leads the output.
func (st *Store) seal(plaintext, aad []byte) ([]byte, error) {
	gcm, err := st.gcm()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce) // never fails
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

// unseal reverses seal.
func (st *Store) unseal(sealed, aad []byte) ([]byte, error) {
	gcm, err := st.gcm()
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("store: sealed value too short")
	}
	out, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("store: unseal: %w", err)
	}
	return out, nil
}

func (st *Store) gcm() (cipher.AEAD, error) {
	// Made once: every link opened unseals its token, and an AEAD is safe
	// for concurrent use.
	st.aeadOnce.Do(func() {
		block, err := aes.NewCipher(st.keys.Seal)
		if err != nil {
			st.aeadErr = fmt.Errorf("store: seal key: %w", err)
			return
		}
		st.aead, st.aeadErr = cipher.NewGCM(block)
	})
	return st.aead, st.aeadErr
}
