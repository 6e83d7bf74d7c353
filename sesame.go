// Package sesame holds the domain of the sesame secure-share gateway: the
// nouns (objects, buckets, tokens, uploads), the error model and the small
// role interfaces that the adapters in store, notify, authenticators and
// gateway implement or use. It imports only the standard library.
package sesame

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strings"
	"time"
)

// ID prefixes, as on the Pangea wire.
const (
	PrefixObject  = "pos_"
	PrefixLink    = "psl_"
	PrefixBucket  = "pro_"
	PrefixRequest = "prq_"
	PrefixToken   = "stk_"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns prefix followed by 32 lowercase base32 characters (160 random bits).
func NewID(prefix string) string {
	var b [20]byte
	rand.Read(b[:]) // never fails (crypto/rand panics on an unusable source)
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// sortedEncoding is base32 over the characters of NewID's ids in their
// byte order, so that encoded numbers sort as the numbers do.
var sortedEncoding = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// NewTimeID returns an id of NewID's form whose first 48 bits are t in
// milliseconds since 1970 and whose other 112 bits are random: ids made
// close in time are close in every index keyed by them, so that rows
// inserted together share B-tree pages instead of each writing a page of
// its own. For rows whose id is not a secret and may tell when they were
// made (links, their authenticators), not for blob keys, which shard
// directories and S3 prefixes by their first characters.
func NewTimeID(prefix string, t time.Time) string {
	var b [20]byte
	ms := uint64(max(t.UnixMilli(), 0))
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	rand.Read(b[6:]) // never fails
	return prefix + sortedEncoding.EncodeToString(b[:])
}

// ValidID reports whether s has the given prefix followed by 32 characters of [a-z2-7].
func ValidID(prefix, s string) bool {
	if len(s) != len(prefix)+32 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, c := range s[len(prefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// TimeLayout is how every time is stored and sent: UTC with microseconds, so
// that text order is time order and a value reads back byte for byte.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime parses an RFC 3339 time (any precision and offset). Times
// whose UTC form falls outside years 1 to 9999 are refused: TimeLayout
// cannot hold them.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, err
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, errors.New("sesame: time outside years 1 to 9999")
	}
	return t, nil
}

// Bucket is an object tree. A server has at least one, the default.
type Bucket struct {
	ID              string
	Name            string
	Default         bool
	TransferMethods []string
}
