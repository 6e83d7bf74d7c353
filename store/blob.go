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
// through every hash at once: each hash runs on its own goroutine over the
// chunk just read while the next chunk is being read.
func (st *Store) Stage(ctx context.Context, r io.Reader, name string, max int64) (*sesame.Upload, error) {
	f, err := os.CreateTemp(st.tmpDir, "up-*")
	if err != nil {
		return nil, stageErr(fmt.Errorf("store: stage: %w", err))
	}
	u := &sesame.Upload{Ref: filepath.Base(f.Name())}
	fail := func(err error) (*sesame.Upload, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	hashes := []hash.Hash{md5.New(), sha1.New(), sha256.New(), sha512.New(), crc32.New(castagnoli)}
	sinks := make([]io.Writer, 0, len(hashes)+1)
	sinks = append(sinks, f)
	for _, h := range hashes {
		sinks = append(sinks, h)
	}
	var (
		bufs   = [2][]byte{make([]byte, chunkSize), make([]byte, chunkSize)}
		wg     sync.WaitGroup
		errs   = make([]error, len(sinks))
		sniff  []byte
		turn   int
		total  int64
		readEr error
	)
	for {
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return fail(err)
		}
		buf := bufs[turn%2]
		n, rerr := fill(r, buf)
		wg.Wait() // the previous chunk is hashed and written; its buffer is free
		for _, e := range errs {
			if e != nil {
				return fail(stageErr(fmt.Errorf("store: stage write: %w", e)))
			}
		}
		if n > 0 {
			total += int64(n)
			if max > 0 && total > max {
				return fail(&sesame.Error{Kind: sesame.TooLarge, Message: fmt.Sprintf("The file is larger than the limit of %d bytes.", max)})
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
			readEr = rerr
			break
		}
		turn++
	}
	wg.Wait()
	if readEr != nil {
		return fail(readErr(readEr))
	}
	for _, e := range errs {
		if e != nil {
			return fail(stageErr(fmt.Errorf("store: stage write: %w", e)))
		}
	}
	if err := f.Sync(); err != nil {
		return fail(stageErr(fmt.Errorf("store: stage sync: %w", err)))
	}
	if err := f.Close(); err != nil {
		return fail(stageErr(fmt.Errorf("store: stage close: %w", err)))
	}
	u.Size = total
	u.MD5 = hex.EncodeToString(hashes[0].Sum(nil))
	u.SHA1 = hex.EncodeToString(hashes[1].Sum(nil))
	u.SHA256 = hex.EncodeToString(hashes[2].Sum(nil))
	u.SHA512 = hex.EncodeToString(hashes[3].Sum(nil))
	u.CRC32C = hex.EncodeToString(hashes[4].Sum(nil))
	u.MimeType = sniffType(sniff, name)
	return u, nil
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

// sweep removes what an interrupted process left behind: staged uploads and
// blobs that no object refers to (a crash between the rename of a blob and
// the commit of its row, or between a delete's commit and the removal of its
// blobs).
func (st *Store) sweep(ctx context.Context) error {
	entries, err := os.ReadDir(st.tmpDir)
	if err != nil {
		return fmt.Errorf("store: sweep tmp: %w", err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(st.tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			st.log.Warn("sweep tmp", "file", e.Name(), "error", err)
		}
	}
	orphans := 0
	// The blob directory may be a link to another disk: walk what it
	// points at, and only ever remove regular files.
	root, err := filepath.EvalSymlinks(st.blobDir)
	if err != nil {
		return fmt.Errorf("store: sweep blobs: %w", err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		var n int
		if err := st.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM objects WHERE blob_key = ?`, d.Name()); err != nil {
			return err
		}
		if n == 0 {
			orphans++
			return os.Remove(p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: sweep blobs: %w", err)
	}
	if orphans > 0 {
		st.log.Info("removed orphan blobs", "count", orphans)
	}
	return nil
}
