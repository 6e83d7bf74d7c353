package sesame_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
)

// memBlob is a stored blob held in memory, as the blob stores hand them
// out.
type memBlob struct{ *bytes.Reader }

func (memBlob) Close() error          { return nil }
func (memBlob) ModTime() time.Time    { return time.Time{} }
func newMemBlob(b []byte) sesame.Blob { return memBlob{bytes.NewReader(b)} }

// testLock is a lock with a random key, cutting plaintext into segments of
// 2^shift bytes (the lock check is not part of the stream format).
func testLock(t testing.TB, shift uint8) (*sesame.FileLock, sesame.FileKey) {
	t.Helper()
	l := &sesame.FileLock{Algorithm: sesame.DefaultPasswordAlgorithm, SegShift: shift}
	rand.Read(l.Prefix[:])
	key := make(sesame.FileKey, 32)
	rand.Read(key)
	return l, key
}

// seal returns plain sealed under l and key.
func seal(t testing.TB, l *sesame.FileLock, key sesame.FileKey, plain []byte) []byte {
	t.Helper()
	wrap, err := l.Sealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := wrap(&out)
	// Odd write sizes cross segment boundaries at every offset.
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 1+len(rest)%13)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := int64(out.Len()), l.SealedSize(int64(len(plain))); got != want {
		t.Fatalf("sealed %d bytes into %d, want %d", len(plain), got, want)
	}
	return out.Bytes()
}

// open reads all of a sealed plaintext of size bytes.
func open(l *sesame.FileLock, key sesame.FileKey, sealed []byte, size int64) ([]byte, error) {
	b, err := l.OpenSealed(newMemBlob(sealed), key, size)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestSealed_RoundTrip(t *testing.T) {
	for _, tt := range []struct {
		shift uint8
		size  int
	}{
		{6, 0}, {6, 1}, {6, 63}, {6, 64}, {6, 65}, {6, 128}, {6, 200},
		{16, 0}, {16, 1}, {16, 65535}, {16, 65536}, {16, 65537}, {16, 3*65536 + 17},
	} {
		t.Run(fmt.Sprintf("Shift%d/Size%d", tt.shift, tt.size), func(t *testing.T) {
			l, key := testLock(t, tt.shift)
			plain := randomBytes(tt.size)
			sealed := seal(t, l, key, plain)
			if len(plain) >= 16 && bytes.Contains(sealed, plain[:16]) {
				t.Error("the sealed form holds the plaintext")
			}
			got, err := open(l, key, sealed, int64(len(plain)))
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("read %d bytes back, differing from the %d sealed", len(got), len(plain))
			}
		})
	}
}

// Every byte of the sealed form is authenticated: changing any one of them
// fails the read, for a file of several segments, of exactly one, and for
// the empty file.
func TestSealed_TamperAnyByte(t *testing.T) {
	for _, size := range []int{0, 64, 200} {
		t.Run(fmt.Sprintf("Size%d", size), func(t *testing.T) {
			l, key := testLock(t, 6)
			plain := randomBytes(size)
			sealed := seal(t, l, key, plain)
			for i := range sealed {
				bad := bytes.Clone(sealed)
				bad[i] ^= 1 << (i % 8)
				if got, err := open(l, key, bad, int64(size)); !errors.Is(err, sesame.ErrSealedBroken) {
					t.Fatalf("byte %d changed: read %d bytes, err %v; want ErrSealedBroken", i, len(got), err)
				}
			}
		})
	}
}

func TestSealed_ReorderTruncateExtend(t *testing.T) {
	const seg = 64
	l, key := testLock(t, 6)
	plain := randomBytes(3*seg + 10) // three full segments and a short one
	sealed := seal(t, l, key, plain)
	stored := seg + 16
	segment := func(i int) []byte { return sealed[i*stored : min((i+1)*stored, len(sealed))] }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// Another file under the same key (never the case: every file has
	// its own salt) but with its own nonce prefix, as every file has.
	l2 := *l
	rand.Read(l2.Prefix[:])
	other := seal(t, &l2, key, randomBytes(len(plain)))

	for _, tt := range []struct {
		name   string
		stored []byte
		size   int64
	}{
		{"Swapped", cat(segment(1), segment(0), segment(2), segment(3)), int64(len(plain))},
		{"Repeated", cat(segment(0), segment(0), segment(2), segment(3)), int64(len(plain))},
		{"Spliced", cat(segment(0), other[stored:2*stored], segment(2), segment(3)), int64(len(plain))},
		{"CutAtSegment", cat(segment(0), segment(1), segment(2)), 3 * seg},
		{"CutMidSegment", sealed[:len(sealed)-5], int64(len(plain)) - 5},
		{"DroppedFirst", cat(segment(1), segment(2), segment(3)), 2*seg + 10},
		{"Extended", cat(sealed, segment(3)), int64(len(plain)) + 10},
		{"ExtendedUnannounced", cat(sealed, []byte("more")), int64(len(plain))},
		{"ShortBlob", sealed[:len(sealed)-1], int64(len(plain))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := open(l, key, tt.stored, tt.size)
			if err == nil {
				t.Fatalf("read %d bytes, want an error", len(got))
			}
			if !errors.Is(err, sesame.ErrSealedBroken) {
				t.Errorf("err = %v, want ErrSealedBroken", err)
			}
		})
	}
	t.Run("WrongKey", func(t *testing.T) {
		_, other := testLock(t, 6)
		if _, err := open(l, other, sealed, int64(len(plain))); !errors.Is(err, sesame.ErrSealedBroken) {
			t.Errorf("err = %v, want ErrSealedBroken", err)
		}
	})
}

// A read from any offset returns the plaintext from there, whichever
// segments it starts, spans and ends in.
func TestSealed_Ranges(t *testing.T) {
	for _, shift := range []uint8{6, 16} {
		seg := 1 << shift
		l, key := testLock(t, shift)
		plain := randomBytes(4*seg + seg/3)
		sealed := seal(t, l, key, plain)
		b, err := l.OpenSealed(newMemBlob(sealed), key, int64(len(plain)))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := b.Seek(0, io.SeekEnd); err != nil || n != int64(len(plain)) {
			t.Fatalf("seek to end: %d, %v; want %d", n, err, len(plain))
		}
		spans := [][2]int{{0, 1}, {seg - 1, 2}, {seg, seg}, {seg - 3, 2*seg + 7}, {2*seg + 5, 1}, {len(plain) - 1, 1},
			{3 * seg, len(plain) - 3*seg}, {seg / 2, len(plain) - seg/2}, {0, len(plain)}}
		r := mrand.New(mrand.NewPCG(1, uint64(shift)))
		for range 40 {
			off := r.IntN(len(plain))
			spans = append(spans, [2]int{off, 1 + r.IntN(len(plain)-off)})
		}
		for _, s := range spans {
			if _, err := b.Seek(int64(s[0]), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, s[1])
			if _, err := io.ReadFull(b, got); err != nil {
				t.Fatalf("shift %d: read %d bytes at %d: %v", shift, s[1], s[0], err)
			}
			if !bytes.Equal(got, plain[s[0]:s[0]+s[1]]) {
				t.Fatalf("shift %d: %d bytes at %d differ from the plaintext", shift, s[1], s[0])
			}
		}
		if _, err := b.Seek(int64(len(plain)), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("read at the end: %d, %v; want 0, EOF", n, err)
		}
		b.Close()
	}
}

// A Range read decrypts only the segments it covers: it does not touch the
// others, which may be broken without failing it.
func TestSealed_RangeReadsOnlyItsSegments(t *testing.T) {
	const seg = 64
	l, key := testLock(t, 6)
	plain := randomBytes(5 * seg)
	sealed := seal(t, l, key, plain)
	for i := range sealed {
		if i/(seg+16) != 2 {
			sealed[i] ^= 0xff // every segment but the third is broken
		}
	}
	b, err := l.OpenSealed(newMemBlob(sealed), key, int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Seek(2*seg+3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, seg-3)
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatalf("read within the intact segment: %v", err)
	}
	if !bytes.Equal(got, plain[2*seg+3:3*seg]) {
		t.Error("the intact segment reads wrong")
	}
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, sesame.ErrSealedBroken) {
		t.Errorf("read into a broken segment: %v, want ErrSealedBroken", err)
	}
}

func TestFileLock_MarshalRoundTrip(t *testing.T) {
	l, _ := testLock(t, 16)
	l.KDF = sesame.KDFParams{Salt: randomBytes(16), Time: 3, Memory: 64 * 1024, Threads: 1}
	rand.Read(l.Check[:])
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := sesame.ParseFileLock(b)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", *l) {
		t.Errorf("parsed %+v, want %+v", *got, *l)
	}
	for i := range b {
		if _, err := sesame.ParseFileLock(b[:i]); err == nil {
			t.Errorf("a lock cut to %d of %d bytes parsed", i, len(b))
		}
	}
	if _, err := sesame.ParseFileLock(append(b, 0)); err == nil {
		t.Error("a lock with a trailing byte parsed")
	}
}

// The check value tells the right password from wrong ones, each after
// one derivation; a key kept from an earlier lock of the file does not
// open a new one.
func TestFileLock_Unlock(t *testing.T) {
	ctx := context.Background()
	d := authenticators.NewPassword()
	l, key, err := sesame.NewFileLock(ctx, d, "Corr3ct-Horse", "")
	if err != nil {
		t.Fatal(err)
	}
	if l.Algorithm != sesame.DefaultPasswordAlgorithm {
		t.Errorf("algorithm %q, want the default", l.Algorithm)
	}
	got, err := l.Unlock(ctx, d, "Corr3ct-Horse")
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("right password: %v", err)
	}
	for _, wrong := range []string{"corr3ct-horse", "Corr3ct-Horse ", "x"} {
		if _, err := l.Unlock(ctx, d, wrong); !errors.Is(err, sesame.ErrWrongFilePassword) {
			t.Errorf("password %q: %v, want ErrWrongFilePassword", wrong, err)
		}
	}
	if _, err := l.Unlock(ctx, d, ""); !errors.Is(err, sesame.ErrFilePasswordRequired) {
		t.Errorf("no password: %v, want ErrFilePasswordRequired", err)
	}
	again, _, err := sesame.NewFileLock(ctx, d, "Corr3ct-Horse", "AES-CFB-128")
	if err != nil {
		t.Fatal(err)
	}
	if again.Opens(key) {
		t.Error("the key of an earlier lock opens a new lock of the same password")
	}
	b, _ := l.MarshalBinary()
	b[len(b)-lockTail] ^= 1 // the algorithm's last byte: the check covers it
	tampered, err := sesame.ParseFileLock(b)
	if err != nil {
		t.Fatal(err)
	}
	if tampered.Opens(key) {
		t.Error("a lock whose algorithm was changed still opens")
	}
	if s := fmt.Sprint(key) + fmt.Sprintf("%v %s %#v", key, key, key); bytes.Contains([]byte(s), key[:4]) {
		t.Error("a file key prints its bytes")
	}
}

// lockTail is how far from the end of an encoded lock its last
// non-check byte is.
const lockTail = 33
