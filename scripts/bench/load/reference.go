package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// phaseReference measures what the machine does without the server: the
// large file read from the page cache, and written to the same filesystem
// with an fsync at the end (a PUT fsyncs too).
func (b *bench) phaseReference() error {
	b.logf("reference: local read and write")
	size := b.cfg.sizeBytes()
	buf := make([]byte, 1<<20)
	for range b.cfg.runs {
		secs, err := timed(func() error { return readAll(b.bigFile, buf) })
		if err != nil {
			return err
		}
		b.res.refRead = append(b.res.refRead, mbps(size, secs))
		cp := filepath.Join(b.work, "copy.bin")
		secs, err = timed(func() error { return copySynced(b.bigFile, cp, buf) })
		os.Remove(cp)
		if err != nil {
			return err
		}
		b.res.refWrite = append(b.res.refWrite, mbps(size, secs))
	}
	return nil
}

func timed(fn func() error) (float64, error) {
	t0 := time.Now()
	err := fn()
	return time.Since(t0).Seconds(), err
}

// readAll reads a file through buf and drops the bytes.
func readAll(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(discard{}, onlyReader{f}, buf)
	return err
}

// copySynced copies src to dst through buf, then fsyncs dst.
func copySynced(src, dst string, buf []byte) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(onlyWriter{out}, onlyReader{in}, buf); err != nil {
		out.Close()
		return fmt.Errorf("copy: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// onlyReader and onlyWriter hide WriteTo and ReadFrom (and with them
// copy_file_range and sendfile), so that the copy goes through buf as a
// program's would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
