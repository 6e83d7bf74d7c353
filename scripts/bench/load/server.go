package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one sesame server this run starts: its data directory, what
// it adds to the environment, its address, API token and process.
type server struct {
	name string // as the report names it
	// env is added to the run's environment (its SESAME_* settings
	// included) for the server and its CLI commands; its settings win.
	env []string

	data, log   string // the data directory; the server's output
	base, token string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	rss  *rssTracker
}

// pids is the server's process, for startCPU.
func (s *server) pids() []int { return []int{s.cmd.Process.Pid} }

// environ is the environment of the server and its CLI commands (where a
// name appears twice, exec uses the last).
func (s *server) environ() []string { return append(os.Environ(), s.env...) }

// launch makes an API token and starts s on a free loopback port, with
// SESAME_LINKS_MAX_ACCESS_COUNT raised so that one password link can take
// every sign-in of the sign-in section (each counts as an access).
func (b *bench) launch(s *server) error {
	tc := exec.Command(b.sesameBin, "token", "create", "--data", s.data, "--name", "bench", "--scopes", "admin")
	tc.Env = s.environ()
	out, err := tc.Output()
	if s.token = strings.TrimSpace(string(out)); err != nil || s.token == "" {
		return fmt.Errorf("%s: token create: %v %s", s.name, err, stderrOf(err))
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.base = "http://127.0.0.1:" + strconv.Itoa(port)
	b.logf("starting the %s server on %s", s.name, s.base)
	logf, err := os.Create(s.log)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(b.sesameBin, "serve", "--data", s.data, "--listen", "127.0.0.1:"+strconv.Itoa(port))
	s.cmd.Env = append(s.environ(), "SESAME_LINKS_MAX_ACCESS_COUNT=1000000")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	b.mu.Lock()
	b.servers = append(b.servers, s)
	b.mu.Unlock()
	if err := b.waitReady(s); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.rss = newRSSTracker(s.cmd.Process.Pid)
	return nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

func (b *bench) waitReady(s *server) error {
	for range 300 {
		select {
		case <-s.done:
			return errors.New("the server exited during start-up")
		default:
		}
		if resp, err := b.api.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the server was not ready after 30 s")
}

// stop asks the server to stop, and kills it after 5 s; killed says
// whether it had to.
func (s *server) stop() (killed bool) {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return false
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		killed = true
	}
	return killed
}
