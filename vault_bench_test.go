package sesame_test

import (
	"io"
	"testing"
)

// benchSize is the plaintext of one operation: large enough that the
// per-file work (the cipher's set-up) does not count.
const benchSize = 16 << 20

// BenchmarkSealed_Seal measures sealing throughput (MB/s of plaintext).
func BenchmarkSealed_Seal(b *testing.B) {
	l, key := testLock(b, 16)
	plain := randomBytes(benchSize)
	wrap, err := l.Sealer(key)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		w := wrap(io.Discard)
		if _, err := w.Write(plain); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealed_Open measures reading a sealed file back as a stream
// (MB/s of plaintext); memory stays at two segments whatever the size.
func BenchmarkSealed_Open(b *testing.B) {
	l, key := testLock(b, 16)
	sealed := seal(b, l, key, randomBytes(benchSize))
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r, err := l.OpenSealed(newMemBlob(sealed), key, benchSize)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}
