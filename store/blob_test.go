package store_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// digests returns what Stage should report for data, computed by the stdlib.
func digests(data []byte) sesame.Upload {
	m := md5.Sum(data)
	s1 := sha1.Sum(data)
	s256 := sha256.Sum256(data)
	s512 := sha512.Sum512(data)
	return sesame.Upload{
		Size:   int64(len(data)),
		MD5:    hex.EncodeToString(m[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		SHA256: hex.EncodeToString(s256[:]),
		SHA512: hex.EncodeToString(s512[:]),
		CRC32C: fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))),
	}
}

// sums drops what digests cannot predict: the ref and the sniffed type.
func sums(u *sesame.Upload) sesame.Upload {
	c := *u
	c.Ref, c.MimeType = "", ""
	return c
}

func TestStore_Stage(t *testing.T) {
	ctx := context.Background()

	t.Run("Hashes", func(t *testing.T) {
		ts := newTestStore(t)
		for i, size := range []int{0, 1, 1 << 20, 3<<20 + 17} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				data := randomBytes(uint64(i+1), size)
				// HalfReader hands over at most half of each request, so
				// chunks straddle the store's read size.
				var r io.Reader = bytes.NewReader(data)
				if i%2 == 1 {
					r = iotest.HalfReader(r)
				}
				u, err := ts.Stage(ctx, r, "data.bin", 0)
				if err != nil {
					t.Fatalf("stage: %v", err)
				}
				if diff := cmp.Diff(digests(data), sums(u)); diff != "" {
					t.Errorf("upload (-want +got):\n%s", diff)
				}
				if u.Ref == "" {
					t.Fatal("got an empty Ref")
				}
				// The staged bytes sit in tmp until committed or discarded.
				ts.wantStaged(t, u.Ref)
				if err := ts.Discard(ctx, u); err != nil {
					t.Fatalf("discard: %v", err)
				}
				ts.wantStaged(t)
			})
		}
	})

	t.Run("KnownDigests", func(t *testing.T) {
		// Fixed vectors, independent of the stdlib helpers above.
		ts := newTestStore(t)
		u := ts.stage(t, "abc.txt", []byte("abc"))
		want := sesame.Upload{
			Size:   3,
			MD5:    "900150983cd24fb0d6963f7d28e17f72",
			SHA1:   "a9993e364706816aba3e25717850c26c9cd0d89d",
			SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			SHA512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
			CRC32C: "364b3fb7",
		}
		if diff := cmp.Diff(want, sums(u)); diff != "" {
			t.Errorf("upload (-want +got):\n%s", diff)
		}
	})

	t.Run("MimeType", func(t *testing.T) {
		ts := newTestStore(t)
		for _, tt := range []struct {
			name, file string
			data       []byte
			want       string
		}{
			{"PDFBytes", "x.bin", []byte("%PDF-1.7\n..."), "application/pdf"},
			{"PNGBytes", "x", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), "image/png"},
			{"EmptyNoExt", "empty", nil, "application/octet-stream"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := ts.stage(t, tt.file, tt.data).MimeType; got != tt.want {
					t.Errorf("got mime type %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("AtMax", func(t *testing.T) {
		ts := newTestStore(t)
		data := randomBytes(3, 1000)
		u, err := ts.Stage(ctx, bytes.NewReader(data), "f", int64(len(data)))
		if err != nil {
			t.Fatalf("stage of exactly max bytes: %v", err)
		}
		if u.Size != 1000 {
			t.Errorf("got size %d, want 1000", u.Size)
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			size int
			max  int64
		}{
			{"OneByteOver", 1000, 999},
			{"InSecondChunk", 3 << 20, 2 << 20},
			{"FirstChunk", 3 << 20, 10},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ts := newTestStore(t)
				u, err := ts.Stage(ctx, bytes.NewReader(randomBytes(4, tt.size)), "big.bin", tt.max)
				wantErr(t, err, sesame.TooLarge, "", "")
				if u != nil {
					t.Errorf("got upload %+v with the error, want nil", u)
				}
				ts.wantStaged(t)
				ts.wantBlobs(t)
			})
		}
	})

	t.Run("MaxBytesReader", func(t *testing.T) {
		ts := newTestStore(t)
		r := http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), 10)
		_, err := ts.Stage(ctx, r, "f", 0)
		wantErr(t, err, sesame.TooLarge, "", "")
		ts.wantStaged(t)
	})

	t.Run("ReadError", func(t *testing.T) {
		ts := newTestStore(t)
		r := io.MultiReader(bytes.NewReader(randomBytes(5, 5000)), iotest.ErrReader(errors.New("connection reset")))
		_, err := ts.Stage(ctx, r, "f", 0)
		wantErr(t, err, sesame.Invalid, "", "")
		ts.wantStaged(t)
	})

	t.Run("Cancelled", func(t *testing.T) {
		ts := newTestStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := ts.Stage(cctx, bytes.NewReader(randomBytes(6, 100)), "f", 0)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		ts.wantStaged(t)
	})

	t.Run("DiscardTwice", func(t *testing.T) {
		ts := newTestStore(t)
		u := ts.stage(t, "f", []byte("x"))
		for i := range 2 {
			if err := ts.Discard(ctx, u); err != nil {
				t.Fatalf("discard %d: %v", i, err)
			}
		}
		ts.wantStaged(t)
	})
}

func TestStore_CreateFile(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		ts := newTestStore(t)
		data := randomBytes(10, 1<<20+3)
		u := ts.stage(t, "data.bin", data)
		d := digests(data)
		size := d.Size
		in := sesame.FileCreate{
			Placement: sesame.Placement{HasParentPath: true, ParentPath: "/in/box", Name: "data.bin"},
			Metadata:  map[string]string{"k": "v"},
			Tags:      []string{"t1", "t2"},
			// Hex digests compare without regard to case.
			Declared: sesame.Declared{Size: &size, MD5: strings.ToUpper(d.MD5), SHA1: d.SHA1, SHA256: d.SHA256, SHA512: d.SHA512, CRC32C: d.CRC32C},
		}
		o, err := ts.CreateFile(ctx, in, u)
		if err != nil {
			t.Fatalf("create file: %v", err)
		}
		box := ts.byPath(t, "/in/box")
		now := ts.clock.Now()
		want := &sesame.Object{
			ID: o.ID, BucketID: ts.DefaultBucket(), ParentID: box.ID, Name: "data.bin", Type: sesame.TypeFile,
			Path: "/in/box/data.bin", Size: d.Size, MimeType: u.MimeType,
			MD5: d.MD5, SHA1: d.SHA1, SHA256: d.SHA256, SHA512: d.SHA512, CRC32C: d.CRC32C,
			Metadata: map[string]string{"k": "v"}, Tags: []string{"t1", "t2"}, BlobKey: o.BlobKey,
			Created: now, Updated: now, TTL: ts.defaultTTL(),
		}
		if diff := cmp.Diff(want, o); diff != "" {
			t.Errorf("created object (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, ts.byPath(t, "/in/box/data.bin")); diff != "" {
			t.Errorf("stored object (-want +got):\n%s", diff)
		}
		if !sesame.ValidID(sesame.PrefixObject, o.ID) {
			t.Errorf("got id %q, want a %s id", o.ID, sesame.PrefixObject)
		}
		if got := ts.readBlob(t, o.BlobKey); !bytes.Equal(got, data) {
			t.Errorf("blob bytes differ: got %d bytes, want %d", len(got), len(data))
		}
		ts.wantStaged(t)
		ts.wantBlobs(t, o.BlobKey)
	})

	t.Run("Empty", func(t *testing.T) {
		ts := newTestStore(t)
		o := ts.putFile(t, "/", "empty", nil)
		if o.Size != 0 {
			t.Errorf("got size %d, want 0", o.Size)
		}
		if got := ts.readBlob(t, o.BlobKey); len(got) != 0 {
			t.Errorf("got %d blob bytes, want 0", len(got))
		}
	})

	t.Run("DeclaredMismatch", func(t *testing.T) {
		data := []byte("%PDF-1.7\nsome pdf body")
		d := digests(data)
		wrongSize := d.Size + 1
		zero := int64(0)
		for _, tt := range []struct {
			name   string
			decl   sesame.Declared
			source string
		}{
			{"Size", sesame.Declared{Size: &wrongSize}, "/size"},
			{"SizeZero", sesame.Declared{Size: &zero}, "/size"},
			{"MD5", sesame.Declared{MD5: digests([]byte("other")).MD5}, "/md5"},
			{"SHA1", sesame.Declared{SHA1: digests([]byte("other")).SHA1}, "/sha1"},
			{"SHA256", sesame.Declared{SHA256: digests([]byte("other")).SHA256}, "/sha256"},
			{"SHA512", sesame.Declared{SHA512: digests([]byte("other")).SHA512}, "/sha512"},
			{"CRC32C", sesame.Declared{CRC32C: digests([]byte("other")).CRC32C}, "/crc32c"},
			{"CRC32CIsNotIEEE", sesame.Declared{CRC32C: fmt.Sprintf("%08x", crc32.ChecksumIEEE(data))}, "/crc32c"},
			{"GoodSizeBadHash", sesame.Declared{Size: &d.Size, SHA256: d.SHA1}, "/sha256"},
			{"MimeType", sesame.Declared{MimeType: "image/png"}, "/mimetype"},
			{"Format", sesame.Declared{Format: "PNG"}, "/format"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ts := newTestStore(t)
				u := ts.stage(t, "doc.pdf", data)
				in := sesame.FileCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: "/new", Name: "doc.pdf"}, Declared: tt.decl}
				o, err := ts.CreateFile(ctx, in, u)
				wantErr(t, err, sesame.Invalid, tt.source, "")
				if o != nil {
					t.Errorf("got object %+v with the error, want nil", o)
				}
				ts.wantStaged(t)
				ts.wantBlobs(t)
				ts.wantNoPath(t, "/new")
				if n := ts.countObjects(t); n != 0 {
					t.Errorf("got %d objects, want 0", n)
				}
			})
		}
	})

	t.Run("DeclaredMatch", func(t *testing.T) {
		ts := newTestStore(t)
		data := []byte("%PDF-1.7\nsome pdf body")
		u := ts.stage(t, "doc.pdf", data)
		in := sesame.FileCreate{Placement: placeAt("", "doc.pdf"), Declared: sesame.Declared{MimeType: "application/pdf; charset=binary", Format: "pdf"}}
		if _, err := ts.CreateFile(ctx, in, u); err != nil {
			t.Fatalf("create file with matching type and format: %v", err)
		}
	})

	t.Run("NameTaken", func(t *testing.T) {
		ts := newTestStore(t)
		first := ts.putFile(t, "/d", "a.txt", []byte("first"))
		u := ts.stage(t, "a.txt", []byte("second"))
		o, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: placeAt("/d", "a.txt")}, u)
		wantErr(t, err, sesame.Conflict, "/name", "")
		if o != nil {
			t.Errorf("got object %+v with the error, want nil", o)
		}
		ts.wantStaged(t)
		ts.wantBlobs(t, first.BlobKey)
		if got := ts.readBlob(t, first.BlobKey); string(got) != "first" {
			t.Errorf("first file now reads %q, want %q", got, "first")
		}
		if diff := cmp.Diff(first, ts.byPath(t, "/d/a.txt")); diff != "" {
			t.Errorf("first file changed (-want +got):\n%s", diff)
		}
	})

	t.Run("NameTakenByFolder", func(t *testing.T) {
		ts := newTestStore(t)
		ts.mkdir(t, "/", "x")
		u := ts.stage(t, "x", []byte("data"))
		_, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: "/", Name: "x", NameSource: "/file_name"}}, u)
		wantErr(t, err, sesame.Conflict, "/file_name", "")
		ts.wantStaged(t)
		ts.wantBlobs(t)
	})

	t.Run("UnknownParent", func(t *testing.T) {
		ts := newTestStore(t)
		u := ts.stage(t, "f", []byte("data"))
		_, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{HasParentID: true, ParentID: sesame.NewID(sesame.PrefixObject), Name: "f"}}, u)
		wantErr(t, err, sesame.NotFound, "/parent_id", "DoesNotExist")
		ts.wantStaged(t)
		ts.wantBlobs(t)
	})

	t.Run("BadName", func(t *testing.T) {
		ts := newTestStore(t)
		u := ts.stage(t, "f", []byte("data"))
		_, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: placeAt("", "a/b")}, u)
		wantErr(t, err, sesame.Invalid, "/name", "")
		ts.wantStaged(t)
		ts.wantBlobs(t)
	})

	t.Run("UnknownBucket", func(t *testing.T) {
		ts := newTestStore(t)
		u := ts.stage(t, "f", []byte("data"))
		in := sesame.FileCreate{Placement: placeAt("", "f")}
		in.BucketID = sesame.NewID(sesame.PrefixBucket)
		_, err := ts.CreateFile(ctx, in, u)
		wantErr(t, err, sesame.NotFound, "/bucket_id", "")
		ts.wantStaged(t)
		ts.wantBlobs(t)
	})
}

func TestStore_OpenBlob(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	o := ts.putFile(t, "/", "f.txt", []byte("0123456789"))

	t.Run("Seek", func(t *testing.T) {
		b, err := ts.OpenBlob(ctx, o.BlobKey)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := b.Seek(4, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "456789" {
			t.Errorf("got %q after seeking to 4, want %q", got, "456789")
		}
	})

	for _, tt := range []struct{ name, key string }{
		{"Empty", ""},
		{"Short", "short"},
		{"UnknownKey", sesame.NewID("")},
		{"Traversal", "../../sesame.db"},
		{"Backslashes", `ab\cd\..\..\x`},
	} {
		t.Run("NotFound"+tt.name, func(t *testing.T) {
			b, err := ts.OpenBlob(ctx, tt.key)
			if b != nil {
				b.Close()
			}
			wantErr(t, err, sesame.NotFound, "", "")
		})
	}
}
