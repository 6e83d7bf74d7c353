package store

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sesame-share/sesame"
)

const chunkSize = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Stage implements sesame.BlobStore. The bytes go to a file under tmp/ and
// through every hash at once. Stage refuses bytes that would leave less than
// the reserve (Config.MinFreeSpace) free on the data disk, with NoSpace, so
// that deletes and database writes always have room.
func (st *Store) Stage(ctx context.Context, r io.Reader, name string, max int64) (*sesame.Upload, error) {
	if err := st.room(0); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(st.tmpDir, "up-*")
	if err != nil {
		return nil, stageErr(fmt.Errorf("store: stage: %w", err))
	}
	fail := func(err error) (*sesame.Upload, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	// The lock, held while the file is written, tells a server that starts
	// meanwhile to leave the file out of its sweep.
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail(fmt.Errorf("store: stage lock: %w", err))
	}
	hashes := []hash.Hash{md5.New(), sha1.New(), sha256.New(), sha512.New(), crc32.New(castagnoli)}
	total, sniff, err := st.copyHashed(ctx, r, f, hashes, max)
	if err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(stageErr(fmt.Errorf("store: stage sync: %w", err)))
	}
	if err := f.Close(); err != nil {
		return fail(stageErr(fmt.Errorf("store: stage close: %w", err)))
	}
	return &sesame.Upload{
		Ref:      filepath.Base(f.Name()),
		Size:     total,
		MD5:      hex.EncodeToString(hashes[0].Sum(nil)),
		SHA1:     hex.EncodeToString(hashes[1].Sum(nil)),
		SHA256:   hex.EncodeToString(hashes[2].Sum(nil)),
		SHA512:   hex.EncodeToString(hashes[3].Sum(nil)),
		CRC32C:   hex.EncodeToString(hashes[4].Sum(nil)),
		MimeType: sniffType(sniff, name),
	}, nil
}

// copyHashed copies r to f and through every hash: each sink runs on its
// own goroutine over the chunk just read while the next chunk is being
// read. It returns the byte count and the first bytes, for sniffing.
func (st *Store) copyHashed(ctx context.Context, r io.Reader, f *os.File, hashes []hash.Hash, max int64) (int64, []byte, error) {
	sinks := make([]io.Writer, 0, len(hashes)+1)
	sinks = append(sinks, f)
	for _, h := range hashes {
		sinks = append(sinks, h)
	}
	var (
		bufs  = [2][]byte{make([]byte, chunkSize), make([]byte, chunkSize)}
		wg    sync.WaitGroup
		errs  = make([]error, len(sinks))
		sniff []byte
		total int64
	)
	writeErr := func() error {
		for _, e := range errs {
			if e != nil {
				return stageErr(fmt.Errorf("store: stage write: %w", e))
			}
		}
		return nil
	}
	for turn := 0; ; turn++ {
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return 0, nil, err
		}
		buf := bufs[turn%2]
		n, rerr := fill(r, buf)
		wg.Wait() // the previous chunk is hashed and written; its buffer is free
		if err := writeErr(); err != nil {
			return 0, nil, err
		}
		if n > 0 {
			total += int64(n)
			if max > 0 && total > max {
				return 0, nil, &sesame.Error{Kind: sesame.TooLarge, Message: fmt.Sprintf("The file is larger than the limit of %d bytes.", max)}
			}
			if err := st.room(int64(n)); err != nil {
				return 0, nil, err
			}
			if sniff == nil {
				sniff = append([]byte(nil), buf[:min(n, 512)]...)
			}
			chunk := buf[:n]
			wg.Add(len(sinks))
			for i, s := range sinks {
				go func() {
					defer wg.Done()
					_, errs[i] = s.Write(chunk)
				}()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			wg.Wait()
			return 0, nil, readErr(rerr)
		}
	}
	wg.Wait()
	return total, sniff, writeErr()
}

// room returns NoSpace when n more bytes would leave less than the reserve
// free on the data disk.
func (st *Store) room(n int64) error {
	if st.reserve <= 0 {
		return nil
	}
	free, err := st.freeSpace()
	if err != nil {
		return fmt.Errorf("store: free space: %w", err)
	}
	if free-n < st.reserve {
		return &sesame.Error{Kind: sesame.NoSpace, Message: "The server is low on disk space and takes no uploads until some is freed."}
	}
	return nil
}

// LowSpace reports whether less than the reserve (Config.MinFreeSpace) is
// free on the data disk, so that uploads are refused.
func (st *Store) LowSpace() bool {
	return sesame.KindOf(st.room(0)) == sesame.NoSpace
}

// fill reads into buf until it is full or the reader stops. Unlike
// io.ReadFull it passes io.EOF through only for a clean end, so that a
// reader's own io.ErrUnexpectedEOF (a multipart part cut off before its
// boundary, a body shorter than its Content-Length) stays an error.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readErr classifies a failure to read the client's bytes.
func readErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &sesame.Error{Kind: sesame.TooLarge, Message: fmt.Sprintf("The upload is larger than the limit of %d bytes.", mbe.Limit), Err: err}
	}
	if sesame.AsError(err) != nil {
		return err
	}
	return &sesame.Error{Kind: sesame.Invalid, Message: "The upload was cut off before it was complete.", Err: err}
}

// stageErr classifies a local write failure: a full disk is NoSpace.
func stageErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &sesame.Error{Kind: sesame.NoSpace, Message: "The server does not have enough free space to store this file.", Err: err}
	}
	return err
}

// sniffType guesses a MIME type from the first bytes, refined by the name's
// extension where the bytes alone say little.
func sniffType(head []byte, name string) string {
	byExt := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if len(head) == 0 {
		if byExt != "" {
			return byExt
		}
		return "application/octet-stream"
	}
	sniffed := http.DetectContentType(head)
	base, _, _ := mime.ParseMediaType(sniffed)
	if byExt != "" && (base == "application/octet-stream" || base == "text/plain") {
		return byExt
	}
	return sniffed
}

// Discard implements sesame.BlobStore.
func (st *Store) Discard(ctx context.Context, u *sesame.Upload) error {
	if u == nil || u.Ref == "" {
		return nil
	}
	err := os.Remove(filepath.Join(st.tmpDir, filepath.Base(u.Ref)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: discard: %w", err)
	}
	return nil
}

// blobPath returns where a committed blob lives: two levels of fan-out keep
// directories small.
func (st *Store) blobPath(key string) string {
	return filepath.Join(st.blobDir, key[:2], key[2:4], key)
}

// commitBlob moves a staged upload to its final place under key.
func (st *Store) commitBlob(u *sesame.Upload, key string) error {
	dst := st.blobPath(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return stageErr(fmt.Errorf("store: blob dir: %w", err))
	}
	if err := os.Rename(filepath.Join(st.tmpDir, filepath.Base(u.Ref)), dst); err != nil {
		return fmt.Errorf("store: commit blob: %w", err)
	}
	return nil
}

func (st *Store) removeBlob(key string) {
	if key == "" {
		return
	}
	if err := os.Remove(st.blobPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.log.Warn("remove blob", "blob_key", key, "error", err)
	}
}

type fileBlob struct {
	*os.File
	size int64
	mod  time.Time
}

func (b *fileBlob) Size() int64        { return b.size }
func (b *fileBlob) ModTime() time.Time { return b.mod }

// OSFile lets the gateway hand the file itself to net/http, which sends
// it with sendfile(2).
func (b *fileBlob) OSFile() *os.File { return b.File }

// OpenBlob implements sesame.BlobStore.
func (st *Store) OpenBlob(ctx context.Context, key string) (sesame.Blob, error) {
	if len(key) < 8 || strings.ContainsAny(key, `/\.`) {
		return nil, &sesame.Error{Kind: sesame.NotFound, Message: "The file's contents are missing."}
	}
	f, err := os.Open(st.blobPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &sesame.Error{Kind: sesame.NotFound, Message: "The file's contents are missing.", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("store: open blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: stat blob: %w", err)
	}
	return &fileBlob{File: f, size: fi.Size(), mod: fi.ModTime()}, nil
}
