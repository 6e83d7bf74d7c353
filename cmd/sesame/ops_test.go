package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame/internal/testrig"
)

// rawRequest is an HTTP/1.1 request written by hand on its own connection,
// so that the test decides when each byte of the body goes out.
type rawRequest struct {
	t    *testing.T
	conn net.Conn
	body []byte
	sent int
}

// startRaw sends the headers of a request with body and the first n bytes
// of the body.
func startRaw(t *testing.T, base, path, token, ctype string, body []byte, n int) *rawRequest {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := &rawRequest{t: t, conn: conn, body: body}
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, u.Host, token, ctype, len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	r.send(n)
	return r
}

// send sends the next n bytes of the body.
func (r *rawRequest) send(n int) {
	r.t.Helper()
	if _, err := r.conn.Write(r.body[r.sent : r.sent+n]); err != nil {
		r.t.Fatalf("send %d bytes of the body: %v", n, err)
	}
	r.sent += n
}

// finish sends the rest of the body.
func (r *rawRequest) finish() { r.t.Helper(); r.send(len(r.body) - r.sent) }

// reply reads the response. The 30 s bound only keeps a broken server from
// hanging the test; a server that answers never comes near it.
func (r *rawRequest) reply() (int, []byte, error) {
	r.t.Helper()
	if err := r.conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		r.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(r.conn), nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// uploadBody is a /v1/put multipart body: the request part, then size
// bytes of file. head is where the file's bytes begin.
func uploadBody(folder, name string, size int) (body []byte, ctype string, head int) {
	var b bytes.Buffer
	const boundary = "sesameopsboundary"
	req, _ := json.Marshal(map[string]string{"folder": folder, "name": name})
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"request\"\r\nContent-Type: application/json\r\n\r\n%s\r\n", boundary, req)
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=%q\r\nContent-Type: application/octet-stream\r\n\r\n", boundary, name)
	head = b.Len()
	b.Write(bytes.Repeat([]byte("sesame! "), size/8))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), "multipart/form-data; boundary=" + boundary, head
}

// waitStaged waits until the server has a staged upload in dir's tmp/,
// which it creates once it has begun to read the file's bytes.
func waitStaged(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if m, _ := filepath.Glob(filepath.Join(dir, "tmp", "up-*")); len(m) > 0 {
			return m[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("no staged upload in tmp/ after 10s")
		}
	}
	return ""
}

// uploaded checks that an upload's reply is a 200 for a file of size bytes.
func uploaded(t *testing.T, code int, body []byte, err error, size int64) {
	t.Helper()
	if err != nil || code != http.StatusOK {
		t.Fatalf("upload: got %d %v: %s, want 200", code, err, body)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if got := decodeResult(t, env).Object.Size; got != size {
		t.Errorf("upload stored %d bytes, want %d", got, size)
	}
}

// TestServe_SlowBodies sends two bodies slowly, each stalling after a few
// bytes: a JSON API call is cut off at http.request_timeout (short here),
// while an upload that began earlier outlives that and then completes.
func TestServe_SlowBodies(t *testing.T) {
	dir := t.TempDir()
	s := startServeEnv(t, dir, []string{"SESAME_HTTP_REQUEST_TIMEOUT=300ms", "SESAME_LOG_LEVEL=warn"})
	token := tokenRE.FindString(s.stdout.String())

	const size = 200_000
	body, ctype, head := uploadBody("/slow", "up.bin", size)
	up := startRaw(t, s.base, "/v1/put", token, ctype, body, head+1000)
	waitStaged(t, dir) // the upload's deadline is set

	js := startRaw(t, s.base, "/v1/list", token, "application/json", []byte(`{"filter":{"folder":"/"}, "size": 10}`), 2)
	code, reply, err := js.reply()
	if err != nil {
		t.Fatalf("a JSON body stalled past http.request_timeout was not answered: %v", err)
	}
	if code != http.StatusBadRequest || !bytes.Contains(reply, []byte("too slowly")) {
		t.Errorf("stalled JSON body: got %d %s, want 400 saying it arrived too slowly", code, reply)
	}

	up.finish()
	code, reply, err = up.reply()
	uploaded(t, code, reply, err, size)
}

// TestServe_DataDirLock runs a second server and the other commands on the
// data directory of a running server that is receiving an upload: the
// second server refuses to start, the commands work and leave the upload
// alone, and the upload completes.
func TestServe_DataDirLock(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	token := tokenRE.FindString(s.stdout.String())

	const size = 300_000
	body, ctype, head := uploadBody("/busy", "up.bin", size)
	up := startRaw(t, s.base, "/v1/put", token, ctype, body, head+1000)
	staged := waitStaged(t, dir)

	t.Run("SecondServeRefuses", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		args := []string{"serve", "--data", dir, "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		var out, errw testrig.Buffer
		err := run(ctx, args, nil, &out, &errw)
		if ctx.Err() != nil {
			t.Fatalf("a second serve on the same data directory ran until stopped; stderr:\n%s", errw.String())
		}
		want := fmt.Sprintf("Another sesame server is using %s (pid %d)", dir, os.Getpid())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("second serve: got %v, want an error saying %q", err, want)
		}
		if strings.Contains(out.String(), "sst_") {
			t.Errorf("second serve printed a token: %q", out.String())
		}
	})
	for _, args := range [][]string{{"token", "list"}, {"migrate"}, {"token", "create", "--name", "side", "--scopes", "links:read"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			if _, stderr, err := runCLI(t, append(args, "--data", dir)...); err != nil {
				t.Fatalf("%q beside a running server: %v (stderr %q)", args, err, stderr)
			}
			if _, err := os.Stat(staged); err != nil {
				t.Errorf("%q beside a running server removed its staged upload: %v", args, err)
			}
		})
	}

	up.finish()
	code, reply, err := up.reply()
	uploaded(t, code, reply, err, size)
	if code, _ := getStatus(t, s.base+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz after the other commands: %d", code)
	}
}

// TestFault_DiskReserve fills a small disk that holds the database as well
// as the files, with storage.min_free_space set: uploads stop at the
// reserve with 507, and deleting a file, creating a link and the audit
// trail of both still work. It needs root (mount); without it it is skipped.
func TestFault_DiskReserve(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	mountTmpfs(t, dir, "8m")
	s := startServeEnv(t, dir, []string{"SESAME_STORAGE_MIN_FREE_SPACE=3MiB", "SESAME_LOG_LEVEL=warn"})
	a := newAPI(s.base, tokenRE.FindString(s.stdout.String()), 2)
	defer a.close()

	// Fill with ever smaller files, so that without a reserve the disk
	// would end up full to its last page.
	var ids []string
	put := func(i int, size int64) apiReply {
		t.Helper()
		body, ctype := multipartPut(map[string]any{"folder": "/fill", "name": fmt.Sprintf("f%03d.bin", i)}, "f.bin", payload{seed: uint64(i), size: size}, 64<<10, 0)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/put", body)
		req.Header.Set("Content-Type", ctype)
		r, err := a.do(req)
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		if r.Code == http.StatusOK {
			var res struct {
				Object wireObject `json:"object"`
			}
			if err := json.Unmarshal(r.Env.Result, &res); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.Object.ID)
		}
		return r
	}
	i := 0
	for _, size := range []int64{500 << 10, 64 << 10, 4 << 10, 1} {
		for ; i < 300; i++ {
			r := put(i, size)
			if r.Code == http.StatusOK {
				continue
			}
			if r.Code != http.StatusInsufficientStorage || r.Env.Status != "ServiceNotAvailable" {
				t.Fatalf("put %d of %d bytes: got %d %s %s, want 200 or 507 ServiceNotAvailable", i, size, r.Code, r.Env.Status, r.Body)
			}
			i++
			break
		}
	}
	if len(ids) < 2 {
		t.Fatalf("only %d uploads fit", len(ids))
	}
	if code, ready := getStatus(t, s.base+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz at the reserve: %d %s, want 200", code, ready)
	}

	a.mustPost(t, ctx, "/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{ids[0]},
		"authenticators": []any{map[string]any{"auth_type": "password", "auth_context": "correct horse battery"}}}}})
	a.mustPost(t, ctx, "/v1/delete", map[string]any{"id": ids[1]})
	env := a.mustPost(t, ctx, "/v1/audit/list", map[string]any{})
	for _, action := range []string{"link.create", "object.delete"} {
		if !bytes.Contains(env.Result, []byte(`"`+action+`"`)) {
			t.Errorf("the audit trail at the reserve has no %s: %.600s", action, env.Result)
		}
	}
}
