package testrig

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Known content: bytes that look random to any compressor or cipher test
// but whose every 8-byte word says where it is. Word i (bytes 8i to
// 8i+7, little-endian) is mix(i), and mix is a bijection of the 64-bit
// numbers, so any run of 15 or more of its bytes seen elsewhere holds a
// whole word, and unmixing that word names the run's place. That makes
// "does this blob hold a plaintext run longer than 16 bytes?" one pass
// over the blob, with no index of the plaintext.

const (
	mixSeed = 0x9e3779b97f4a7c15
	mixC1   = 0xff51afd7ed558ccd
	mixC2   = 0xc4ceb9fe1a85ec53
)

// mix is MurmurHash3's 64-bit finaliser over i, offset by a seed: every
// step (xor with a right shift of 33 or more, multiplication by an odd
// number) can be undone.
func mix(i uint64) uint64 {
	x := i ^ mixSeed
	x ^= x >> 33
	x *= mixC1
	x ^= x >> 33
	x *= mixC2
	x ^= x >> 33
	return x
}

var mixInv1, mixInv2 = oddInverse(mixC1), oddInverse(mixC2)

// oddInverse returns the inverse of the odd number c modulo 2^64, by
// Newton's iteration (each step doubles the correct low bits).
func oddInverse(c uint64) uint64 {
	inv := c
	for range 6 {
		inv *= 2 - c*inv
	}
	return inv
}

func unmix(x uint64) uint64 {
	x ^= x >> 33
	x *= mixInv2
	x ^= x >> 33
	x *= mixInv1
	x ^= x >> 33
	return x ^ mixSeed
}

// KnownByte returns the byte of known content at offset off.
func KnownByte(off int64) byte {
	return byte(mix(uint64(off/8)) >> (8 * (off % 8)))
}

// Known is size bytes of known content, as a reader.
type Known struct {
	Size int64
	pos  int64
}

// NewKnown returns a reader of size bytes of known content.
func NewKnown(size int64) *Known { return &Known{Size: size} }

func (k *Known) Read(p []byte) (int, error) {
	if k.pos >= k.Size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), k.Size-k.pos))
	fillKnown(p[:n], k.pos)
	k.pos += int64(n)
	return n, nil
}

// fillKnown fills p with the known content from offset off.
func fillKnown(p []byte, off int64) {
	i := 0
	for i < len(p) && (off+int64(i))%8 != 0 {
		p[i] = KnownByte(off + int64(i))
		i++
	}
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], mix(uint64((off+int64(i))/8)))
	}
	for ; i < len(p); i++ {
		p[i] = KnownByte(off + int64(i))
	}
}

// KnownSlice returns n bytes of known content from offset off.
func KnownSlice(off, n int64) []byte {
	p := make([]byte, n)
	fillKnown(p, off)
	return p
}

// SameAsKnown reads r to its end and reports how it differs from the n
// bytes of known content at offset off (nil: not at all), a chunk at a
// time, so that files of any size compare in little memory.
func SameAsKnown(r io.Reader, off, n int64) error {
	buf := make([]byte, 1<<20)
	want := make([]byte, len(buf))
	var got int64
	for {
		m, err := io.ReadFull(r, buf)
		if m > 0 {
			if got+int64(m) > n {
				return fmt.Errorf("more than the %d bytes wanted", n)
			}
			fillKnown(want[:m], off+got)
			if !bytes.Equal(buf[:m], want[:m]) {
				i := 0
				for buf[i] == want[i] {
					i++
				}
				return fmt.Errorf("byte %d differs", got+int64(i))
			}
			got += int64(m)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got, err)
		}
	}
	if got != n {
		return fmt.Errorf("%d bytes, want %d", got, n)
	}
	return nil
}

// LongestKnownRun reads r to its end and returns the length of the
// longest run of its bytes that equals a run of the first size bytes of
// known content. Runs shorter than 15 bytes may go unseen (they need not
// hold a whole word) and count as 0; every longer one is found.
func LongestKnownRun(r io.Reader, size int64) (int64, error) {
	const hist = 16
	var (
		ring    [hist]byte // the last bytes read: stream offset p is ring[p%hist]
		win     uint64     // the last 8 bytes, the newest in the high bits
		n       int64      // bytes read
		inRun   bool
		runLen  int64
		next    int64 // the known offset the run's next byte would have
		longest int64
	)
	words := uint64(size / 8) // whole words within size
	buf := make([]byte, 1<<20)
	for {
		m, err := r.Read(buf)
		for _, c := range buf[:m] {
			ring[n%hist] = c
			n++
			win = win>>8 | uint64(c)<<56
			if inRun {
				if next < size && c == KnownByte(next) {
					runLen++
					next++
					continue
				}
				longest, inRun = max(longest, runLen), false
			}
			if n < 8 {
				continue
			}
			i := unmix(win)
			if i >= words {
				continue
			}
			// Stream bytes n-8 to n-1 are known bytes 8i to 8i+7; the run
			// may start up to 7 bytes earlier.
			start := int64(8 * i)
			back := int64(0)
			for back < 7 && start-back-1 >= 0 && n-9-back >= 0 && ring[(n-9-back)%hist] == KnownByte(start-back-1) {
				back++
			}
			inRun, runLen, next = true, 8+back, start+8
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if inRun {
		longest = max(longest, runLen)
	}
	return longest, nil
}
