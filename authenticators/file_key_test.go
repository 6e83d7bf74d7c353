package authenticators_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
)

// A file key depends on the password and the salt, and the parameters a
// stored lock may ask for are bounded.
func TestPassword_DeriveFileKey(t *testing.T) {
	ctx := context.Background()
	p := authenticators.NewPassword()
	k := p.FileKDF()
	if len(k.Salt) != 16 || k.Memory < 64*1024 || k.Time < 3 || k.Threads != 1 {
		t.Fatalf("new file parameters %+v", k)
	}
	if other := p.FileKDF(); bytes.Equal(other.Salt, k.Salt) {
		t.Error("two files got the same salt")
	}
	a, err := p.DeriveFileKey(ctx, "pw", k)
	if err != nil || len(a) != 32 {
		t.Fatalf("derive: %d bytes, %v", len(a), err)
	}
	if again, _ := p.DeriveFileKey(ctx, "pw", k); !bytes.Equal(again, a) {
		t.Error("the same password and salt gave another key")
	}
	if other, _ := p.DeriveFileKey(ctx, "pW", k); bytes.Equal(other, a) {
		t.Error("another password gave the same key")
	}
	for name, bad := range map[string]sesame.KDFParams{
		"NoPasses":    {Salt: k.Salt, Time: 0, Memory: k.Memory, Threads: 1},
		"ManyPasses":  {Salt: k.Salt, Time: 11, Memory: k.Memory, Threads: 1},
		"HugeMemory":  {Salt: k.Salt, Time: 1, Memory: 1 << 20, Threads: 1},
		"NoLanes":     {Salt: k.Salt, Time: 1, Memory: k.Memory, Threads: 0},
		"ShortSalt":   {Salt: k.Salt[:4], Time: 1, Memory: k.Memory, Threads: 1},
		"TinyMemory":  {Salt: k.Salt, Time: 1, Memory: 7, Threads: 1},
		"NoSaltAtAll": {Time: 1, Memory: k.Memory, Threads: 1},
	} {
		if _, err := p.DeriveFileKey(ctx, "pw", bad); err == nil {
			t.Errorf("%s: derived a key", name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.DeriveFileKey(cancelled, "pw", k); err == nil {
		t.Error("derived a key for a cancelled request")
	}
}

// BenchmarkPassword_DeriveFileKey measures what one guess at a file
// password costs.
func BenchmarkPassword_DeriveFileKey(b *testing.B) {
	p := authenticators.NewPassword()
	k := p.FileKDF()
	for b.Loop() {
		if _, err := p.DeriveFileKey(context.Background(), "correct horse", k); err != nil {
			b.Fatal(err)
		}
	}
}
