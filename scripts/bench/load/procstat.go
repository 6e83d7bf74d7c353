package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// statusKiB reads a field of /proc/PID/status that is counted in kB, such
// as VmRSS or VmHWM; ok is false where there is no such file or field.
func statusKiB(pid int, field string) (kib int64, ok bool) {
	return statusField(fmt.Sprintf("/proc/%d/status", pid), field)
}

// statusField reads a "Name: N kB" field of a /proc file such as
// /proc/PID/status or /proc/meminfo.
func statusField(path, field string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			f := strings.Fields(v)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// resetHWM sets a process's VmHWM back to its current RSS (Linux >= 4.0).
func resetHWM(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// statFields returns the fields of /proc/PID/stat after the command name
// (which may hold spaces): field 3 of proc(5), the state, is element 0.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	k := strings.LastIndexByte(s, ')')
	if k < 0 {
		return nil
	}
	return strings.Fields(s[k+1:])
}

// cpuTicks is the CPU time of the processes, utime + stime, in clock
// ticks (fields 14 and 15 of /proc/PID/stat).
func cpuTicks(pids ...int) int64 {
	var t int64
	for _, pid := range pids {
		f := statFields(pid)
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		t += u + s
	}
	return t
}

// schedWait is the time, in ns, the processes' threads have spent runnable
// but waiting for a CPU (the run queue: /proc/PID/task/*/schedstat, field
// 2). With the CPU time it tells a process short of CPU from a blocked one.
func schedWait(pids ...int) int64 {
	var w int64
	for _, pid := range pids {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if fs := strings.Fields(string(b)); len(fs) >= 2 {
				n, _ := strconv.ParseInt(fs[1], 10, 64)
				w += n
			}
		}
	}
	return w
}

// children lists the processes whose parent is pid (field 4 of stat).
func children(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	want := strconv.Itoa(pid)
	for _, d := range dirs {
		c, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f := statFields(c); len(f) > 1 && f[1] == want {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// clockTicks is the kernel's USER_HZ, the unit of utime and stime.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
}

// cpuUse is what a process (or group) did over a stretch of time: the CPUs
// it kept busy and the CPUs' worth of time its threads waited for one.
type cpuUse struct {
	secs       float64 // CPU time
	busy, wait float64 // CPUs
	measured   bool
}

// cpuMeter measures cpuUse over a stretch, for the processes pids returns
// (read at both ends, so that nginx's workers are found as they are).
type cpuMeter struct {
	pids   func() []int
	hz     float64
	ticks  int64
	waitNS int64
	t0     time.Time
}

func startCPU(hz float64, pids func() []int) *cpuMeter {
	p := pids()
	return &cpuMeter{pids: pids, hz: hz, ticks: cpuTicks(p...), waitNS: schedWait(p...), t0: time.Now()}
}

// stop ends the stretch; over is its length in seconds for the rates
// (the client's own measure when given, else the meter's).
func (m *cpuMeter) stop(over float64) cpuUse {
	p := m.pids()
	ticks, wait := cpuTicks(p...)-m.ticks, schedWait(p...)-m.waitNS
	if over <= 0 {
		over = time.Since(m.t0).Seconds()
	}
	u := cpuUse{secs: float64(ticks) / m.hz, measured: true}
	if over > 0 {
		u.busy = u.secs / over
		u.wait = float64(wait) / 1e9 / over
	}
	return u
}

// loadavg is /proc/loadavg's 1, 5 and 15 minute averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// load1 is the 1-minute load average now.
func load1() string { return strings.Fields(loadavg() + " ")[0] }

// loadSampler reads the 1-minute load every 2 s while the runs go on.
type loadSampler struct {
	mu      sync.Mutex
	samples []float64
	done    chan struct{}
	wg      sync.WaitGroup
}

func startLoadSampler() *loadSampler {
	s := &loadSampler{done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			if v, err := strconv.ParseFloat(load1(), 64); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, v)
				s.mu.Unlock()
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

// stop ends the sampling and describes what it saw.
func (s *loadSampler) stop() string {
	close(s.done)
	s.wg.Wait()
	if len(s.samples) == 0 {
		return "not sampled"
	}
	med, lo, hi := spread(s.samples)
	return fmt.Sprintf("min %.2f, median %.2f, max %.2f over %d samples", lo, med, hi, len(s.samples))
}

// rssTracker follows the server's memory: per-operation peaks by resetting
// VmHWM before an operation, and the overall peak as the largest of them.
type rssTracker struct {
	pid      int
	proc     bool  // /proc/PID/status has VmHWM
	canReset bool  // clear_refs takes 5
	peakKiB  int64 // the largest VmHWM seen before a reset
}

func newRSSTracker(pid int) *rssTracker {
	_, ok := statusKiB(pid, "VmHWM")
	return &rssTracker{pid: pid, proc: ok, canReset: ok && resetHWM(pid)}
}

// now is a status field in MiB ("n/a" without /proc).
func (r *rssTracker) now(field string) string {
	if !r.proc {
		return "n/a"
	}
	return mibOf(statusKiB(r.pid, field))
}

// hwm reads VmHWM and keeps the largest seen.
func (r *rssTracker) hwm() (int64, bool) {
	h, ok := statusKiB(r.pid, "VmHWM")
	if ok {
		r.peakKiB = max(r.peakKiB, h)
	}
	return h, ok
}

// phaseStart resets VmHWM, so that phasePeak tells this phase's peak.
func (r *rssTracker) phaseStart() {
	if r.canReset {
		r.hwm()
		resetHWM(r.pid)
	}
}

// phasePeak is the phase's peak RSS in MiB, "-" when it cannot be told.
func (r *rssTracker) phasePeak() string {
	if !r.canReset {
		return "-"
	}
	return mibOf(r.hwm())
}

// peak is the overall peak so far in MiB ("n/a" without /proc).
func (r *rssTracker) peak() string {
	if !r.proc {
		return "n/a"
	}
	r.hwm()
	return mibOf(r.peakKiB, true)
}

// mibOf formats KiB as MiB with one decimal, "n/a" when not known.
func mibOf(kib int64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// nproc is the number of CPUs this process may run on.
func nproc() int { return runtime.NumCPU() }
