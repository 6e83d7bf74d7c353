//go:build cluster

package cluster_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-share/sesame/internal/testrig"
)

// cluster is what scripts/cluster.sh reports in its state file.
type cluster struct {
	URL       string   // the proxy
	Token     string   // an admin token
	Replicas  []string // each replica's own URL
	PIDs      []int
	AccessLog string // nginx's, with the replica that answered each request
	Dir       string // the cluster's files, the sesame binary among them
	// DatabaseURL and S3Endpoint are the throw-away PostgreSQL and versitygw.
	DatabaseURL, S3Endpoint string
	env                     []string // what the cluster's CLI commands need
}

// api is the JSON API through base (the proxy or one replica) with the
// admin token.
func (c *cluster) api(base string) *testrig.API {
	return &testrig.API{URL: base, Token: c.Token, Client: &http.Client{Timeout: time.Minute}}
}

// on rewrites a URL of the proxy into the same URL on replica i.
func (c *cluster) on(i int, u string) string {
	return c.Replicas[i] + strings.TrimPrefix(u, c.URL)
}

// TestCluster runs every check on one cluster, in order: the last one
// kills a replica.
func TestCluster(t *testing.T) {
	smtp := testrig.NewSMTPServer(t)
	c := startCluster(t, "SESAME_NOTIFY_EMAIL=smtp", "SESAME_SMTP_HOST="+smtp.Host, "SESAME_SMTP_PORT="+strconv.Itoa(smtp.Port),
		"SESAME_SMTP_TLS=none", "SESAME_SMTP_FROM=share@example.com", "SESAME_NOTIFY_INTERVAL=200ms")
	t.Run("SDKThroughProxy", func(t *testing.T) { testSDKThroughProxy(t, c) })
	t.Run("PostURLAcrossReplicas", func(t *testing.T) { testPostURLAcrossReplicas(t, c) })
	t.Run("SignInsRespectCap", func(t *testing.T) { testSignInsRespectCap(t, c) })
	t.Run("SessionAndRevokeAcrossReplicas", func(t *testing.T) { testSessionAndRevoke(t, c) })
	t.Run("ThrottlesAreShared", func(t *testing.T) { testThrottlesAreShared(t, c) })
	t.Run("SendsDeliveredOnce", func(t *testing.T) { testSendsDeliveredOnce(t, c, smtp) })
	t.Run("KillDuringUploads", func(t *testing.T) { testKillDuringUploads(t, c) })
}

// startCluster runs scripts/cluster.sh with env added to this process's
// environment, waits for its state file and stops it (Ctrl-C) when the
// test ends.
func startCluster(t *testing.T, env ...string) *cluster {
	tmp := t.TempDir()
	state, logPath := filepath.Join(tmp, "state"), filepath.Join(tmp, "cluster.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "scripts/cluster.sh", "--state", state)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var c *cluster
	t.Cleanup(func() {
		if t.Failed() && c != nil {
			for i := range c.Replicas {
				t.Logf("replica %d log (tail):\n%s", i+1, tail(filepath.Join(c.Dir, fmt.Sprintf("replica-%d.log", i+1)), 40))
			}
		}
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			if c != nil {
				c.wantGone(t)
			}
		case <-time.After(time.Minute):
			t.Errorf("scripts/cluster.sh did not stop within a minute of Ctrl-C")
			_ = cmd.Process.Kill()
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("scripts/cluster.sh output:\n%s", tail(logPath, 40))
		}
	})
	deadline := time.Now().Add(10 * time.Minute) // a first run builds versitygw
	for {
		if b, err := os.ReadFile(state); err == nil {
			c = parseState(t, b)
			return c
		}
		select {
		case err := <-exited:
			t.Fatalf("scripts/cluster.sh exited (%v):\n%s", err, tail(logPath, 40))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cluster after 10 minutes:\n%s", tail(logPath, 40))
		}
	}
}

func parseState(t *testing.T, b []byte) *cluster {
	c := &cluster{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		v = strings.Trim(v, `"`)
		switch k {
		case "URL":
			c.URL = v
		case "TOKEN":
			c.Token = v
		case "REPLICAS":
			c.Replicas = strings.Fields(v)
		case "PIDS":
			for _, f := range strings.Fields(v) {
				pid, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("state: pid %q", f)
				}
				c.PIDs = append(c.PIDs, pid)
			}
		case "ACCESS_LOG":
			c.AccessLog = v
		case "DIR":
			c.Dir = v
		case "DATABASE_URL":
			c.DatabaseURL = v
		case "S3_ENDPOINT":
			c.S3Endpoint = v
		case "ENV_FILE":
			c.env = readEnvFile(t, v)
		}
	}
	if c.URL == "" || c.Token == "" || len(c.Replicas) != 2 || len(c.PIDs) != 2 || c.AccessLog == "" || len(c.env) == 0 || c.DatabaseURL == "" || c.S3Endpoint == "" {
		t.Fatalf("incomplete cluster state:\n%s", b)
	}
	return c
}

// readEnvFile reads the cluster's "export KEY=VALUE" lines into an
// environment for the CLI.
func readEnvFile(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		env = append(env, k+"="+strings.Trim(v, "'"))
	}
	return env
}

// tail is the last n lines of a file, for failure reports.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// testSDKThroughProxy runs the Node SDK conformance test against the
// proxy, and checks in nginx's log that consecutive requests went to
// different replicas.
func testSDKThroughProxy(t *testing.T, c *cluster) {
	before := fileSize(t, c.AccessLog)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "scripts/sdk-test.sh")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "SESAME_URL="+c.URL, "SESAME_TOKEN="+c.Token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the SDK conformance test failed through the proxy (%v):\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) {
		t.Fatalf("the SDK conformance test reported failures:\n%s", out)
	}
	b, err := os.ReadFile(c.AccessLog)
	if err != nil {
		t.Fatal(err)
	}
	var upstreams []string
	for _, line := range strings.Split(strings.TrimSpace(string(b[before:])), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			upstreams = append(upstreams, f[len(f)-1])
		}
	}
	per, changes := map[string]int{}, 0
	for i, u := range upstreams {
		per[u]++
		if i > 0 && u != upstreams[i-1] {
			changes++
		}
	}
	t.Logf("%d SDK requests through the proxy: %v per replica, %d of %d consecutive pairs on different replicas", len(upstreams), per, changes, len(upstreams)-1)
	if len(upstreams) < 50 || len(per) != 2 {
		t.Fatalf("the SDK's requests reached %d replicas (%v); want both", len(per), per)
	}
	for u, n := range per {
		if n < len(upstreams)*3/10 {
			t.Errorf("replica %s answered %d of %d requests; round-robin should give it about half", u, n, len(upstreams))
		}
	}
	if changes < (len(upstreams)-1)*4/10 {
		t.Errorf("only %d of %d consecutive requests changed replica", changes, len(upstreams)-1)
	}
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// kill9 kills replica i without warning.
func (c *cluster) kill9(t *testing.T, i int) {
	if err := syscall.Kill(c.PIDs[i], syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 replica %d: %v", i+1, err)
	}
}

// wantGone checks that Ctrl-C left nothing behind: no replica, database
// or S3 server answering, and no cluster directory.
func (c *cluster) wantGone(t *testing.T) {
	for i, pid := range c.PIDs {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("replica %d (pid %d) still runs after Ctrl-C", i+1, pid)
		}
	}
	db, err := url.Parse(c.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for what, addr := range map[string]string{"PostgreSQL": db.Host, "versitygw": c.S3Endpoint, "the proxy": strings.TrimPrefix(c.URL, "http://")} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still answers on %s after Ctrl-C", what, addr)
		}
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cluster's directory %s is still there (%v)", c.Dir, err)
	}
}
