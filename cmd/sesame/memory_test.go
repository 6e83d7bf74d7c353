package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/sesame-share/sesame/internal/testrig"
)

// TestApplyMemoryLimit: memory_limit becomes the runtime's soft limit,
// or, at 0, 40 MiB and 16 MiB per CPU; GOMEMLIMIT, when set, wins.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	log := testrig.DiscardLogger()

	cfg := DefaultConfig()
	debug.SetMemoryLimit(math.MaxInt64)
	applyMemoryLimit(cfg, nil, log)
	if got, want := debug.SetMemoryLimit(-1), int64(40<<20+16<<20*runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("default: limit %d, want %d", got, want)
	}
	if got := memoryLimitFor(2); got != 72<<20 {
		t.Errorf("automatic limit on 2 CPUs: %d, want 72 MiB", got)
	}

	cfg.MemoryLimit = 200 << 20
	debug.SetMemoryLimit(math.MaxInt64)
	applyMemoryLimit(cfg, nil, log)
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("memory_limit 200MiB: limit %d", got)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	applyMemoryLimit(cfg, []string{"GOMEMLIMIT=1GiB"}, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT: limit changed to %d", got)
	}

}
