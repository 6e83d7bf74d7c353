package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// bench is one benchmark run: the workspace, the servers under test and
// what has been measured so far.
type bench struct {
	cfg          *config
	sesameBin    string
	servefileBin string
	start        time.Time
	hz           float64

	work, bigFile, sha string
	linkPassword       string

	// sides are the servers under test: SQLite + disk, then PostgreSQL +
	// S3 unless BENCH_SKIP names backends.
	sides []*side
	opts  backendOpts  // the PostgreSQL and S3 servers
	load  *loadSampler // the load average while the servers are measured

	xfer *http.Client // transfers: no compression, no redirects, long timeout
	api  *http.Client

	blob, blobDesc string // the large file's blob on SQLite + disk, which the references serve

	// mu guards procs and servers, which cleanup reads from the signal
	// handler's goroutine too.
	mu      sync.Mutex
	procs   []*exec.Cmd // helpers to stop at the end: servefile, nginx
	servers []*server   // sesame servers to stop at the end
	once    sync.Once

	res results // the figures of the whole run; each side holds its own
}

// lite is the SQLite + disk server, the first side.
func (b *bench) lite() *side { return b.sides[0] }

// pg is the PostgreSQL + S3 server, nil when BENCH_SKIP leaves it out.
func (b *bench) pg() *side {
	if len(b.sides) < 2 {
		return nil
	}
	return b.sides[1]
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	sesameBin := fs.String("sesame", "", "the sesame binary (built with CGO_ENABLED=1)")
	sfBin := fs.String("servefile", "", "the scripts/bench/servefile binary")
	since := fs.Int64("since", 0, "when the run began, Unix seconds (default: now)")
	bo := backendFlags(fs)
	fs.Parse(args)
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	if *sesameBin == "" || *sfBin == "" && cfg.on("servefile") {
		return errors.New("-sesame and -servefile name the binaries to run")
	}
	if err := bo.check(cfg); err != nil {
		return err
	}
	b := &bench{cfg: cfg, sesameBin: *sesameBin, servefileBin: *sfBin, start: time.Now(), hz: clockTicks(),
		xfer: transferClient(), api: client(4), opts: *bo}
	if *since > 0 {
		b.start = time.Unix(*since, 0)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		b.logf("stopped by %v", s)
		b.cleanup(true)
		if s == syscall.SIGTERM {
			os.Exit(143)
		}
		os.Exit(130)
	}()
	err = b.run()
	b.cleanup(err != nil)
	return err
}

// run takes the steps in order; each one logs what it does, and each
// section runs on every server.
func (b *bench) run() error {
	for _, step := range []func() error{b.setup, b.startServers,
		b.phasePut, b.phaseDest, b.phaseMultipart, b.phasePortal, b.phaseZip,
		b.phaseAgainstNginx, b.phaseLinks, b.phaseSignIns,
		b.finish, b.phaseReference, b.writeReport} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: [%.0fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// transferClient is the client of the large transfers: curl's defaults
// (no compression, no redirects) and a timeout long enough for 1 GiB on a
// busy machine.
func transferClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 8,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// setup makes the workspace and the large file of random bytes.
func (b *bench) setup() error {
	work, err := os.MkdirTemp("", "sesame-bench.")
	if err != nil {
		return err
	}
	b.work, b.bigFile = work, filepath.Join(work, "big.bin")
	// The file, its blob, the staging copy during a PUT or, later, the
	// ZIP's blobs and the ZIP saved once; and slack. The PostgreSQL + S3
	// server adds the blob and the ZIP's blobs in the bucket, the parts of
	// a multipart upload while it is assembled and its own staging copy,
	// on this filesystem as bench.sh starts the S3 server.
	need := b.cfg.sizeBytes()*4 + 256<<20
	if b.cfg.on("backends") {
		need += b.cfg.sizeBytes() * 4
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(work, &st); err == nil && int64(st.Bavail)*st.Bsize < need {
		return fmt.Errorf("need %d MiB free under %s, have %d MiB", need>>20, work, int64(st.Bavail)*st.Bsize>>20)
	}
	b.logf("work dir %s (%s)", work, fsType(work))
	b.logf("making a %d MiB random file", b.cfg.sizeMiB)
	if b.sha, err = randomFile(b.bigFile, b.cfg.sizeBytes()); err != nil {
		return err
	}
	pw := make([]byte, 12)
	rand.Read(pw)
	b.linkPassword = "bench-password-" + hex.EncodeToString(pw)
	return nil
}

// randomFile writes size random bytes to path and returns their sha256.
func randomFile(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rand.Reader, size); err != nil {
		f.Close()
		return "", err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// fsType is the type of the filesystem holding dir, as stat -f names it.
func fsType(dir string) string {
	out, err := exec.Command("stat", "-f", "-c", "%T", dir).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServers starts the servers (startSides) and the load sampling.
func (b *bench) startServers() error {
	if err := b.startSides(); err != nil {
		return err
	}
	return b.noteLoad()
}

// noteLoad notes the load before the runs, warns when it is high, and
// starts sampling it: other work on the machine skews every number.
func (b *bench) noteLoad() error {
	b.res.loadBefore = loadavg()
	if l, err := strconv.ParseFloat(load1(), 64); err == nil && l > float64(nproc())/2 {
		b.logf("warning: load average is %s on %d CPUs; the numbers will be noisy", b.res.loadBefore, nproc())
	}
	b.load = startLoadSampler()
	return nil
}

// finish ends the measurements on the servers: the load, their final and
// peak RSS (from rusage when a server has stopped, without /proc).
func (b *bench) finish() error {
	b.res.loadAfter = loadavg()
	b.res.loadDuring = b.load.stop()
	b.load = nil
	b.res.rssSrc = "VmHWM in /proc/PID/status of each server's process"
	for _, sd := range b.sides {
		r := &sd.res
		if sd.rss.proc {
			r.peak, r.finalRSS = sd.rss.peak(), sd.rss.now("VmRSS")
			continue
		}
		sd.server.stop()
		r.peak, r.finalRSS, b.res.rssSrc = "n/a", "n/a", "not measured"
		if ru, ok := sd.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.peak = mibOf(ru.Maxrss, true)
			b.res.rssSrc = "the maximum resident set size of each server's rusage"
		}
	}
	return nil
}

// track adds a helper process to stop at the end.
func (b *bench) track(c *exec.Cmd) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.procs = append(b.procs, c)
}

// stopProc stops a helper process this run started, and waits for it.
func stopProc(c *exec.Cmd) {
	if c == nil || c.Process == nil || c.ProcessState != nil {
		return
	}
	c.Process.Signal(syscall.SIGTERM)
	c.Wait()
}

// cleanup stops every process this run started and removes the workspace;
// after a failure it shows the end of the server's log.
func (b *bench) cleanup(failed bool) {
	b.once.Do(func() {
		if b.load != nil {
			b.load.stop()
		}
		b.mu.Lock()
		for _, s := range b.servers {
			s.stop()
		}
		for _, c := range b.procs {
			stopProc(c)
		}
		b.mu.Unlock()
		if b.work == "" {
			return
		}
		if failed {
			for _, s := range b.servers {
				tailLog(s.name, s.log, 20)
			}
		}
		os.RemoveAll(b.work)
	})
}

func tailLog(name, path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	fmt.Fprintf(os.Stderr, "bench: last lines of the %s server's log:\n", name)
	for _, l := range lines[max(0, len(lines)-n):] {
		fmt.Fprintln(os.Stderr, l)
	}
}
