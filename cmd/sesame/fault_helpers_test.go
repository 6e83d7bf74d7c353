package main

// Helpers for the fault tests (fault_test.go): a sesame server in a child
// process that can be killed with SIGKILL, API calls that report instead of
// failing (so goroutines can use them), and byte streams that can be
// regenerated for hashing instead of being kept in memory.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-share/sesame/internal/testrig"
)

// faultChildEnv carries the arguments of run, JSON-encoded, to the child
// process. It deliberately lacks the SESAME_ prefix, so that the child's
// configuration loader does not warn about it.
const faultChildEnv = "FAULT_TEST_SESAME_ARGS"

// TestSesameChildProcess is not a test: it is the body of the child process
// that the fault tests start (the test binary re-executed with
// -test.run=^TestSesameChildProcess$). It does what main does, so the child
// is the sesame program, and SIGKILL of the child is a crash of the server.
//
// The test binary is re-executed instead of building ./cmd/sesame with
// go build: under -race that build links a ~100 MB binary, which takes 20-45 s
// on a busy two-core machine; the test binary is already built and runs the
// very same run function that main calls.
func TestSesameChildProcess(t *testing.T) {
	enc := os.Getenv(faultChildEnv)
	if enc == "" {
		t.Skip("helper process for the fault tests; it runs only as their child")
	}
	var args []string
	if err := json.Unmarshal([]byte(enc), &args); err != nil {
		fmt.Fprintln(os.Stderr, "sesame child: bad", faultChildEnv, err)
		os.Exit(2)
	}
	// Never outlive the test that started this process, even when that
	// test binary dies without its cleanups (a timeout panic).
	go func(ppid int) {
		for range time.Tick(200 * time.Millisecond) {
			if os.Getppid() != ppid {
				os.Exit(3)
			}
		}
	}(os.Getppid())
	// As in main.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, args, os.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sesame:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// proc is one `sesame serve` in a child process.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	base           string
	stdout, stderr *testrig.Buffer
	done           chan struct{} // closed when the process has been waited for
	waitErr        error         // valid after done
}

// startProc starts `sesame serve --data dir --listen 127.0.0.1:PORT` with
// the extra environment env, and waits until /readyz answers 200.
func startProc(t *testing.T, dir string, env ...string) *proc {
	t.Helper()
	port := freePort(t)
	args := []string{"serve", "--data", dir, "--listen", fmt.Sprintf("127.0.0.1:%d", port)}
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSesameChildProcess$", "-test.count=1")
	for _, kv := range os.Environ() {
		// Nothing of the parent's configuration leaks into the child.
		if !strings.HasPrefix(kv, "SESAME_") && !strings.HasPrefix(kv, faultChildEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, faultChildEnv+"="+string(enc), "SESAME_LOG_LEVEL=warn")
	p := &proc{t: t, cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port),
		stdout: &testrig.Buffer{}, stderr: &testrig.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the server process: %v", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(p.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				client.CloseIdleConnections()
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("the server process exited before it was ready (%v); stderr:\n%s", p.waitErr, p.stderr.String())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			t.Fatalf("the server process: /readyz not 200 after 30s (last error %v); stderr:\n%s", err, p.stderr.String())
		}
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("the server process (pid %d) did not die within 10s of SIGKILL", p.cmd.Process.Pid)
	}
}

// createToken runs `sesame token create --data dir --name t --scopes admin`
// (in this process; it only opens the store) and returns the secret, which
// is all it prints on stdout.
func createToken(t *testing.T, dir string) string {
	t.Helper()
	var out, errw strings.Builder
	err := run(t.Context(), []string{"token", "create", "--data", dir, "--name", "t", "--scopes", "admin"}, nil, &out, &errw)
	if err != nil {
		t.Fatalf("token create: %v; stderr %s", err, errw.String())
	}
	tok := strings.TrimSpace(out.String())
	if !tokenRE.MatchString(tok) || tok != tokenRE.FindString(tok) {
		t.Fatalf("token create printed %q, want only the token", out.String())
	}
	return tok
}

// api is an authenticated client for one server.
type api struct {
	base, token string
	client      *http.Client
}

func newAPI(base, token string, conns int) *api {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 30 * time.Second}
	return &api{base: base, token: token, client: &http.Client{Transport: tr}}
}

func (a *api) close() { a.client.CloseIdleConnections() }

// apiReply is what a call got back.
type apiReply struct {
	Code   int
	Header http.Header
	Env    envelope
	Body   []byte
}

// post sends a JSON body to path and returns the reply; err is a transport
// or decoding failure.
func (a *api) post(ctx context.Context, path string, body any) (apiReply, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return apiReply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return apiReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	return a.do(req)
}

func (a *api) do(req *http.Request) (apiReply, error) {
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.client.Do(req)
	if err != nil {
		return apiReply{}, err
	}
	defer resp.Body.Close()
	r := apiReply{Code: resp.StatusCode, Header: resp.Header}
	if r.Body, err = io.ReadAll(resp.Body); err != nil {
		return r, fmt.Errorf("read the reply: %w", err)
	}
	if err := json.Unmarshal(r.Body, &r.Env); err != nil {
		return r, fmt.Errorf("decode the reply (status %d): %w; body %.300s", r.Code, err, r.Body)
	}
	return r, nil
}

// mustPost is post for the test goroutine: anything but 200 Success fails.
func (a *api) mustPost(t *testing.T, ctx context.Context, path string, body any) envelope {
	t.Helper()
	r, err := a.post(ctx, path, body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	if r.Code != http.StatusOK || r.Env.Status != "Success" {
		t.Fatalf("POST %s: got %d %s, want 200 Success; body %.500s", path, r.Code, r.Env.Status, r.Body)
	}
	return r.Env
}

// wireObject is an object as /v1/list and /v1/put return it.
type wireObject struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	Folder       string   `json:"folder"`
	Size         int64    `json:"size"`
	SHA256       string   `json:"sha256"`
	Tags         []string `json:"tags"`
	ShareLinkIDs []string `json:"share_link_ids"`
}

// listAll pages through /v1/list.
func (a *api) listAll(t *testing.T, ctx context.Context) []wireObject {
	t.Helper()
	var all []wireObject
	last := ""
	for range 100 {
		body := map[string]any{"size": 1000}
		if last != "" {
			body["last"] = last
		}
		env := a.mustPost(t, ctx, "/v1/list", body)
		var res struct {
			Count   int          `json:"count"`
			Objects []wireObject `json:"objects"`
			Last    string       `json:"last"`
		}
		if err := json.Unmarshal(env.Result, &res); err != nil {
			t.Fatalf("list: %v; %s", err, env.Result)
		}
		all = append(all, res.Objects...)
		if res.Last == "" {
			if len(all) != res.Count {
				t.Errorf("list: got %d objects over all pages, but count says %d", len(all), res.Count)
			}
			return all
		}
		last = res.Last
	}
	t.Fatal("list: more than 100 pages")
	return nil
}

// download fetches an object's bytes through a dest-url and returns their
// size and sha256.
func (a *api) download(ctx context.Context, id string) (int64, string, error) {
	r, err := a.post(ctx, "/v1/get", map[string]any{"id": id, "transfer_method": "dest-url"})
	if err != nil {
		return 0, "", err
	}
	if r.Code != http.StatusOK {
		return 0, "", fmt.Errorf("get %s: status %d; body %.300s", id, r.Code, r.Body)
	}
	var res struct {
		DestURL string `json:"dest_url"`
	}
	if err := json.Unmarshal(r.Env.Result, &res); err != nil || res.DestURL == "" {
		return 0, "", fmt.Errorf("get %s: no dest_url in %s (%v)", id, r.Env.Result, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.DestURL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, "", fmt.Errorf("GET dest_url of %s: status %d; body %s", id, resp.StatusCode, b)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return n, "", fmt.Errorf("GET dest_url of %s: %w", id, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// payload is a file whose bytes come from a seeded generator, so that a test
// can send and hash them without holding them in memory.
type payload struct {
	seed uint64
	size int64
}

func (p payload) reader() io.Reader {
	// AES-CTR over zeros: a keyed pseudo-random stream that is fast even
	// under the race detector (the cipher is assembly).
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:], p.seed)
	copy(key[8:], "sesame-f")
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	iv := make([]byte, aes.BlockSize)
	return io.LimitReader(cipher.StreamReader{S: cipher.NewCTR(block, iv), R: zeros{}}, p.size)
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func (p payload) sha256() string {
	h := sha256.New()
	if _, err := io.Copy(h, p.reader()); err != nil {
		panic(err) // the generator never fails
	}
	return hex.EncodeToString(h.Sum(nil))
}

// multipartPut streams a /v1/put multipart body: the request part, then the
// payload in chunks of chunk bytes with pause between them (0: none). It
// returns the body and its content type; the writing goroutine ends when the
// body is consumed or closed.
func multipartPut(request any, name string, p payload, chunk int, pause time.Duration) (io.ReadCloser, string) {
	pr, pw := io.Pipe()
	boundary := fmt.Sprintf("sesamefault%016x", p.seed)
	go func() {
		req, _ := json.Marshal(request)
		var head bytes.Buffer
		fmt.Fprintf(&head, "--%s\r\nContent-Disposition: form-data; name=\"request\"\r\nContent-Type: application/json\r\n\r\n%s\r\n", boundary, req)
		fmt.Fprintf(&head, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=%q\r\nContent-Type: application/octet-stream\r\n\r\n", boundary, name)
		if _, err := pw.Write(head.Bytes()); err != nil {
			pw.CloseWithError(err)
			return
		}
		src := p.reader()
		buf := make([]byte, chunk)
		for {
			n, rerr := io.ReadFull(src, buf)
			if n > 0 {
				if _, err := pw.Write(buf[:n]); err != nil {
					pw.CloseWithError(err)
					return
				}
				if pause > 0 {
					time.Sleep(pause)
				}
			}
			if rerr != nil {
				break
			}
		}
		_, err := fmt.Fprintf(pw, "\r\n--%s--\r\n", boundary)
		pw.CloseWithError(err)
	}()
	return pr, "multipart/form-data; boundary=" + boundary
}

// filesUnder returns the names of the regular files below root, keyed by
// name with their paths.
func filesUnder(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out[d.Name()] = p
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}
