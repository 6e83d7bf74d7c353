package main

import (
	"log/slog"
	"runtime/debug"
	"strings"
)

// applyMemoryLimit gives the Go runtime the server's soft memory limit,
// memory_limit, unless GOMEMLIMIT sets one (the runtime reads it itself).
// Near the limit the collector runs sooner and returns freed memory to
// the system, so that bursts (argon2id takes 19 MiB per sign-in) do not
// leave the process at its peak; past it the collector takes at most
// about half the CPU, and nothing fails.
func applyMemoryLimit(cfg Config, environ []string, log *slog.Logger) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GOMEMLIMIT="); ok && v != "" {
			log.Info("memory limit from GOMEMLIMIT", "limit", v)
			return
		}
	}
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	}
}
