package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sesame-share/sesame"
)

// lockName is the file in the data directory whose exclusive lock marks the
// one process (the server) that owns the directory's files.
const lockName = "sesame.lock"

// lockDataDir takes the exclusive lock on dir and writes this process's id
// into the lock file. The kernel releases the lock when the file is closed
// or the process dies, so a crash never leaves the directory locked.
// Another holder gives a Conflict that names it.
func lockDataDir(dir string) (*os.File, error) {
	p := filepath.Join(dir, lockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open lock: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := lockHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			msg := "Another sesame server is using " + dir
			if holder > 0 {
				msg += fmt.Sprintf(" (pid %d)", holder)
			}
			return nil, &sesame.Error{Kind: sesame.Conflict, Message: msg + ".", Err: err}
		}
		return nil, fmt.Errorf("store: lock %s: %w", p, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: write lock: %w", err)
	}
	if _, err := f.WriteAt(pid, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: write lock: %w", err)
	}
	return f, nil
}

// lockHolder reads the process id the lock's holder wrote, or 0.
func lockHolder(f *os.File) int {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil {
		return 0
	}
	return pid
}

// flock applies flock(2) to f.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Flock(int(fd), how) }); err != nil {
		return err
	}
	return ferr
}

// sweep removes what an interrupted process left behind: staged uploads and
// blobs that no object refers to (a crash between the move of a blob and
// the commit of its row, or between a delete's commit and the removal of its
// blobs). Only the holder of the data directory's lock sweeps, and of the
// replicas that share a database one at a time.
func (st *Store) sweep(ctx context.Context) error {
	return st.oneAtATime(ctx, "blob-sweep", func() error {
		orphans, err := st.sweepBlobs(ctx)
		if err == nil && orphans > 0 {
			st.log.Info("removed orphan blobs", "count", orphans)
		}
		return err
	})
}

// sweepBlobs has the backend remove the blobs that no row names (a file,
// or a part of a resumable upload). While an
// export is live every blob counts as referenced: its snapshot may name
// rows deleted since (see exportStale).
func (st *Store) sweepBlobs(ctx context.Context) (int, error) {
	st.lastSweep.Store(st.now().UnixNano())
	live := sesame.FormatTime(st.nowUTC().Add(-exportStale))
	return st.blobs.sweep(ctx, func(key string) (bool, error) {
		var n int
		err := st.db.GetContext(ctx, &n, st.db.Rebind(`SELECT (SELECT COUNT(*) FROM objects WHERE blob_key = ?) + (SELECT COUNT(*) FROM resumable_parts WHERE blob_key = ?)
+ (SELECT COUNT(*) FROM exports WHERE heartbeat_at > ?)`), key, key, live)
		return n > 0, err
	})
}

// bucketSweepEvery is how often the purge also sweeps a bucket, so that
// replicas that run for months still drop what crashed uploads left
// there. A bucket's sweep spares objects younger than a day, so it may run
// while other replicas upload; the disk's may not, and runs at start only.
const bucketSweepEvery = 6 * time.Hour

// sweepBucketIfDue runs the bucket's sweep when bucketSweepEvery has
// passed since the last one; it returns how many blobs went.
func (st *Store) sweepBucketIfDue(ctx context.Context, now time.Time) (int, error) {
	if _, ok := st.blobs.(*s3Blobs); !ok || now.Sub(time.Unix(0, st.lastSweep.Load())) < bucketSweepEvery {
		return 0, nil
	}
	n := 0
	err := st.oneAtATime(ctx, "blob-sweep", func() error {
		var err error
		n, err = st.sweepBlobs(ctx)
		return err
	})
	return n, err
}

// sweep removes the staged uploads under tmp/ and the blobs no row refers
// to. A staged file that another process (sesame mcp) is still writing is
// locked by it and stays.
func (d *diskBlobs) sweep(ctx context.Context, referenced func(key string) (bool, error)) (int, error) {
	entries, err := os.ReadDir(d.tmpDir)
	if err != nil {
		return 0, fmt.Errorf("store: sweep tmp: %w", err)
	}
	for _, e := range entries {
		if err := removeUnlocked(filepath.Join(d.tmpDir, e.Name())); err != nil {
			d.log.Warn("sweep tmp", "file", e.Name(), "error", err)
		}
	}
	orphans := 0
	// The blob directory may be a link to another disk: walk what it
	// points at, and only ever remove regular files.
	root, err := filepath.EvalSymlinks(d.blobDir)
	if err != nil {
		return 0, fmt.Errorf("store: sweep blobs: %w", err)
	}
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		ok, err := referenced(e.Name())
		if err != nil || ok {
			return err
		}
		orphans++
		return os.Remove(p)
	})
	if err != nil {
		return orphans, fmt.Errorf("store: sweep blobs: %w", err)
	}
	return orphans, nil
}

// removeUnlocked removes the file at p unless another open file holds its
// lock, that is unless it is a staged upload being written.
func removeUnlocked(p string) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	switch err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		return nil
	case err != nil:
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
