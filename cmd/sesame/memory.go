package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
)

// applyMemoryLimit gives the Go runtime the server's soft memory limit,
// memory_limit or, when that is 0, memoryLimitFor the CPUs the process
// may use, unless GOMEMLIMIT sets one (the runtime reads it itself; "off"
// turns the limit off).
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
	limit := int64(cfg.MemoryLimit)
	if limit == 0 {
		limit = memoryLimitFor(runtime.GOMAXPROCS(0))
	}
	debug.SetMemoryLimit(limit)
}

// memoryLimitFor is the automatic limit for cpus: 40 MiB for the server
// at rest, and 16 MiB for each argon2id hash that may run at once (one
// per CPU, 19 MiB each, most of it garbage as soon as the hash is done);
// 72 MiB on 2 CPUs.
func memoryLimitFor(cpus int) int64 { return 40<<20 + 16<<20*int64(cpus) }
