package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/sesame-share/sesame/internal/testrig"
)

// TestApplyMemoryLimit: memory_limit becomes the runtime's soft limit,
// unless GOMEMLIMIT is set (the runtime has read it) or the key is 0.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	log := testrig.DiscardLogger()

	cfg := DefaultConfig()
	debug.SetMemoryLimit(math.MaxInt64)
	applyMemoryLimit(cfg, nil, log)
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Errorf("default: limit %d, want 96 MiB", got)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	applyMemoryLimit(cfg, []string{"GOMEMLIMIT=1GiB"}, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT: limit changed to %d", got)
	}

	cfg.MemoryLimit = 0
	applyMemoryLimit(cfg, nil, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory_limit 0: limit changed to %d", got)
	}
}
