package testrig_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/sesame-share/sesame/internal/testrig"
)

// The scan for plaintext runs finds every run of 15 bytes or more, at any
// alignment in the stream and in the content, and its exact length.
func TestLongestKnownRun(t *testing.T) {
	t.Parallel()
	const size = 4096
	plain, err := io.ReadAll(testrig.NewKnown(size))
	if err != nil || len(plain) != size {
		t.Fatalf("known content: %d bytes, %v", len(plain), err)
	}
	for off := int64(0); off < size; off += 97 {
		if testrig.KnownByte(off) != plain[off] || !bytes.Equal(testrig.KnownSlice(off, 9), plain[off:min(off+9, size)]) && off+9 <= size {
			t.Fatalf("KnownByte and KnownSlice disagree with the reader at %d", off)
		}
	}
	// The noise is seeded: a random byte beside a run equals the next known
	// byte one time in 256 and would lengthen the run the case expects.
	rng := rand.NewChaCha8([32]byte{'s', 'e', 's', 'a', 'm', 'e'})
	noise := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	for _, tt := range []struct {
		name string
		blob []byte
		want int64
	}{
		{"Noise", noise(10000), 0},
		{"Whole", plain, size},
		{"Run17", bytes.Join([][]byte{noise(101), plain[37:54], noise(50)}, nil), 17},
		{"Run15", bytes.Join([][]byte{noise(3), plain[1001:1016], noise(5)}, nil), 15},
		{"Longest", bytes.Join([][]byte{noise(7), plain[8:30], noise(9), plain[2003:2043], noise(1), plain[100:119]}, nil), 40},
		{"AtStart", bytes.Join([][]byte{plain[0:20], noise(30)}, nil), 20},
		{"AtEnd", bytes.Join([][]byte{noise(30), plain[size-18:]}, nil), 18},
		{"BeyondSize", bytes.Join([][]byte{noise(30), testrig.KnownSlice(size, 64)}, nil), 0},
	} {
		got, err := testrig.LongestKnownRun(bytes.NewReader(tt.blob), size)
		if err != nil || got != tt.want {
			t.Errorf("%s: %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
	if err := testrig.SameAsKnown(bytes.NewReader(plain[100:300]), 100, 200); err != nil {
		t.Errorf("SameAsKnown: %v", err)
	}
	bad := bytes.Clone(plain[100:300])
	bad[150] ^= 1
	if err := testrig.SameAsKnown(bytes.NewReader(bad), 100, 200); err == nil {
		t.Error("SameAsKnown missed a changed byte")
	}
}
