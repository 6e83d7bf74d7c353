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
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sesame-share/sesame"
)

const chunkSize = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Stage implements sesame.BlobStore. The bytes go to the blob backend (a
// file under tmp/, or an object in the bucket written part by part) and
// through every hash at once. On the disk Stage refuses bytes that would
// leave less than the reserve (Config.MinFreeSpace) free, with NoSpace, so
// that deletes and database writes always have room.
func (st *Store) Stage(ctx context.Context, r io.Reader, name string, max int64) (*sesame.Upload, error) {
	return st.stage(ctx, r, name, max, nil)
}

// StageSealed implements sesame.BlobStore: Stage, with the bytes hashed
// as they come and stored as the writer wrap makes writes them. The
// stored bytes are no business of the store's.
func (st *Store) StageSealed(ctx context.Context, r io.Reader, name string, max int64, wrap func(io.Writer) io.WriteCloser) (*sesame.Upload, error) {
	return st.stage(ctx, r, name, max, wrap)
}

func (st *Store) stage(ctx context.Context, r io.Reader, name string, max int64, wrap func(io.Writer) io.WriteCloser) (*sesame.Upload, error) {
	if err := st.room(0); err != nil {
		return nil, err
	}
	w, err := st.blobs.create(ctx)
	if err != nil {
		st.blobError("create")
		return nil, err
	}
	var sink io.Writer = w
	var sealer io.WriteCloser
	if wrap != nil {
		sealer = wrap(w)
		sink = sealer
	}
	hashes := []hash.Hash{md5.New(), sha1.New(), sha256.New(), sha512.New(), crc32.New(castagnoli)}
	total, sniff, err := st.copyHashed(ctx, r, sink, hashes, max)
	if err == nil && sealer != nil {
		if cerr := sealer.Close(); cerr != nil {
			err = stageErr(fmt.Errorf("store: stage seal: %w", cerr))
		}
	}
	if err != nil {
		w.abort()
		return nil, err
	}
	ref, err := w.finish()
	if err != nil {
		st.blobError("finish")
		return nil, err
	}
	return &sesame.Upload{
		Ref:      ref,
		Size:     total,
		MD5:      hex.EncodeToString(hashes[0].Sum(nil)),
		SHA1:     hex.EncodeToString(hashes[1].Sum(nil)),
		SHA256:   hex.EncodeToString(hashes[2].Sum(nil)),
		SHA512:   hex.EncodeToString(hashes[3].Sum(nil)),
		CRC32C:   hex.EncodeToString(hashes[4].Sum(nil)),
		MimeType: sniffType(sniff, name),
	}, nil
}

// copyHashed copies r to w and through every hash: each sink runs on its
// own goroutine over the chunk just read while the next chunk is being
// read. It returns the byte count and the first bytes, for sniffing.
func (st *Store) copyHashed(ctx context.Context, r io.Reader, w io.Writer, hashes []hash.Hash, max int64) (int64, []byte, error) {
	sinks := make([]io.Writer, 0, len(hashes)+1)
	sinks = append(sinks, w)
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
	return st.blobs.discard(ctx, u.Ref)
}

// removeBlob removes the blob of a row whose deletion has committed. While
// an export runs, whose snapshot may still name the row, it only records
// the key for the purge (see deferRemoval).
func (st *Store) removeBlob(ctx context.Context, key string) {
	if key == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	// Mostly no export runs: a read says so without a write. An export
	// that registers after this read opened its snapshot after the row's
	// deletion had committed, so it does not name the blob.
	live, err := st.exportLive(ctx, st.nowUTC())
	deferred := false
	if err == nil && live {
		deferred, err = st.deferRemoval(ctx, key)
	}
	if err != nil {
		// Whether an export needs the bytes is unknown: keep them. The
		// sweep removes a blob that no row names.
		st.log.WarnContext(ctx, "remove blob", "blob_key", key, "error", err)
		return
	}
	if deferred {
		return
	}
	if err := st.blobs.remove(ctx, key); err != nil {
		st.blobError("remove")
		st.log.WarnContext(ctx, "remove blob", "blob_key", key, "error", err)
	}
}

// OpenBlob implements sesame.BlobStore.
func (st *Store) OpenBlob(ctx context.Context, key string) (sesame.Blob, error) {
	if !validBlobKey(key) {
		return nil, missingBlob(nil)
	}
	b, err := st.blobs.open(ctx, key)
	if err != nil {
		st.blobError("open")
	}
	return b, err
}
