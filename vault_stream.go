package sesame

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// The stored form of a protected file is its plaintext cut into segments
// of 2^SegShift bytes, the last one shorter (or empty, for an empty
// file), each sealed with AES-256-GCM and followed by its 16-byte tag:
//
//	nonce(i) = prefix (7 bytes) ‖ i (4 bytes, big-endian) ‖ final (1 byte)
//	aad(i)   = i (4 bytes, big-endian) ‖ final (1 byte)
//
// final is 1 for the last segment and 0 for the others. The index in the
// nonce and the additional data keeps segments from being reordered; the
// final flag keeps the file from being cut short at a segment boundary or
// extended past its end. The key is the file key's encryption subkey,
// unique to the file (its salt is), so nonces never repeat under a key.

const (
	segTagLen     = 16
	maxSegments   = 1 << 32
	segNonceLen   = 12
	segAADLen     = 5
	finalSegment  = 1
	middleSegment = 0
)

// ErrSealedBroken is the error of a protected file whose stored bytes do
// not authenticate: altered, reordered, cut short or extended.
var ErrSealedBroken = errors.New("sesame: the stored bytes of a protected file do not authenticate")

func (l *FileLock) segSize() int64 { return int64(1) << l.SegShift }

// SealedSize is how many bytes a plaintext of size bytes takes sealed
// under l: every segment (at least one) gains a tag.
func (l *FileLock) SealedSize(size int64) int64 {
	return size + l.segments(size)*segTagLen
}

// segments is how many segments a plaintext of size bytes makes.
func (l *FileLock) segments(size int64) int64 {
	n := (size + l.segSize() - 1) / l.segSize()
	return max(n, 1)
}

func (l *FileLock) aead(key FileKey) (cipher.AEAD, error) {
	if len(key) != fileKeyLen {
		return nil, errors.New("sesame: a file key has 32 bytes")
	}
	block, err := aes.NewCipher(subkey(key, subkeyEncryption))
	if err != nil {
		return nil, fmt.Errorf("sesame: file cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// segNonce and segAAD fill the nonce and additional data of segment i.
func (l *FileLock) segNonce(dst *[segNonceLen]byte, i int64, final byte) {
	copy(dst[:], l.Prefix[:])
	binary.BigEndian.PutUint32(dst[lockPrefixLen:], uint32(i))
	dst[segNonceLen-1] = final
}

func segAAD(dst *[segAADLen]byte, i int64, final byte) {
	binary.BigEndian.PutUint32(dst[:], uint32(i))
	dst[segAADLen-1] = final
}

// Sealer returns what turns plaintext written to it into the sealed form
// written to w. Close writes the last segment; a sealed file is complete
// only after it.
func (l *FileLock) Sealer(key FileKey) (func(w io.Writer) io.WriteCloser, error) {
	a, err := l.aead(key)
	if err != nil {
		return nil, err
	}
	return func(w io.Writer) io.WriteCloser {
		return &segmentWriter{lock: l, aead: a, w: w, buf: make([]byte, 0, l.segSize()+segTagLen)}
	}, nil
}

// segmentWriter holds back one full segment until it knows whether more
// follows, since the last segment is sealed differently.
type segmentWriter struct {
	lock   *FileLock
	aead   cipher.AEAD
	w      io.Writer
	buf    []byte // plaintext of the current segment; cap leaves room for the tag
	index  int64
	closed bool
	err    error
	nonce  [segNonceLen]byte // kept here so that sealing allocates nothing
	aad    [segAADLen]byte
}

func (s *segmentWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.closed {
		return 0, errors.New("sesame: write to a closed sealer")
	}
	seg := int(s.lock.segSize())
	n := 0
	for len(p) > 0 {
		if len(s.buf) == seg {
			if s.err = s.flush(middleSegment); s.err != nil {
				return n, s.err
			}
		}
		k := copy(s.buf[len(s.buf):seg], p)
		s.buf = s.buf[:len(s.buf)+k]
		p, n = p[k:], n+k
	}
	return n, nil
}

// flush seals the current segment in place and writes it.
func (s *segmentWriter) flush(final byte) error {
	if s.index >= maxSegments {
		return errors.New("sesame: file too large to seal")
	}
	s.lock.segNonce(&s.nonce, s.index, final)
	segAAD(&s.aad, s.index, final)
	out := s.aead.Seal(s.buf[:0], s.nonce[:], s.buf, s.aad[:])
	if _, err := s.w.Write(out); err != nil {
		return err
	}
	s.index++
	s.buf = s.buf[:0]
	return nil
}

// Close seals and writes the last segment.
func (s *segmentWriter) Close() error {
	if s.closed || s.err != nil {
		return s.err
	}
	s.closed = true
	s.err = s.flush(finalSegment)
	return s.err
}

// OpenSealed returns raw, the sealed form of a plaintext of size bytes
// under l, as a Blob of the plaintext. Reads decrypt only the segments
// they reach; a segment that does not authenticate fails the read with
// ErrSealedBroken. key must open l (see Opens).
func (l *FileLock) OpenSealed(raw Blob, key FileKey, size int64) (Blob, error) {
	if size < 0 || raw.Size() != l.SealedSize(size) {
		return nil, fmt.Errorf("%w: %d stored bytes for %d", ErrSealedBroken, raw.Size(), size)
	}
	a, err := l.aead(key)
	if err != nil {
		return nil, err
	}
	seg := l.segSize()
	return &openedBlob{lock: l, aead: a, raw: raw, size: size, nseg: l.segments(size), seg: seg, cur: -1,
		buf: make([]byte, seg+segTagLen)}, nil
}

// openedBlob reads a sealed blob as its plaintext.
type openedBlob struct {
	lock   *FileLock
	aead   cipher.AEAD
	raw    Blob
	size   int64 // of the plaintext
	seg    int64 // plaintext bytes per segment
	nseg   int64
	pos    int64  // the next plaintext byte to read
	cur    int64  // the segment in plain (-1: none)
	plain  []byte // its plaintext, within buf
	rawPos int64  // where raw is positioned
	buf    []byte
	nonce  [segNonceLen]byte
	aad    [segAADLen]byte
}

func (b *openedBlob) Size() int64        { return b.size }
func (b *openedBlob) ModTime() time.Time { return b.raw.ModTime() }
func (b *openedBlob) Close() error       { return b.raw.Close() }

// load decrypts segment i.
func (b *openedBlob) load(i int64) error {
	off := i * (b.seg + segTagLen)
	n := min(b.seg, b.size-i*b.seg) + segTagLen
	if b.rawPos != off {
		if _, err := b.raw.Seek(off, io.SeekStart); err != nil {
			b.rawPos = -1
			return err
		}
		b.rawPos = off
	}
	b.cur, b.plain = -1, nil
	got, err := io.ReadFull(b.raw, b.buf[:n])
	b.rawPos += int64(got)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return ErrSealedBroken
	}
	if err != nil {
		return err
	}
	final := byte(middleSegment)
	if i == b.nseg-1 {
		final = finalSegment
	}
	b.lock.segNonce(&b.nonce, i, final)
	segAAD(&b.aad, i, final)
	plain, err := b.aead.Open(b.buf[:0], b.nonce[:], b.buf[:n], b.aad[:])
	if err != nil {
		return ErrSealedBroken
	}
	b.cur, b.plain = i, plain
	return nil
}

// next returns the plaintext from the read position to the end of its
// segment, loading the segment when needed; io.EOF at the end. An empty
// file's one segment is checked all the same.
func (b *openedBlob) next() ([]byte, error) {
	if b.pos >= b.size {
		if b.size == 0 && b.cur != 0 {
			if err := b.load(0); err != nil {
				return nil, err
			}
		}
		return nil, io.EOF
	}
	i := b.pos / b.seg
	if i != b.cur {
		if err := b.load(i); err != nil {
			return nil, err
		}
	}
	return b.plain[b.pos-i*b.seg:], nil
}

func (b *openedBlob) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	chunk, err := b.next()
	if err != nil {
		return 0, err
	}
	n := copy(p, chunk)
	b.pos += int64(n)
	return n, nil
}

// WriteTo writes the rest of the plaintext to w a segment at a time,
// without copying it through a caller's buffer.
func (b *openedBlob) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		chunk, err := b.next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(chunk)
		b.pos += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func (b *openedBlob) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = b.pos + offset
	case io.SeekEnd:
		pos = b.size + offset
	default:
		return b.pos, errors.New("sesame: bad whence")
	}
	if pos < 0 {
		return b.pos, errors.New("sesame: seek before the start")
	}
	b.pos = pos
	return pos, nil
}
