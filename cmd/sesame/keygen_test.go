package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// keygen runs sesame keygen and writes what it printed to a new file, as
// `sesame keygen > FILE` does; it returns the file.
func keygen(t *testing.T) string {
	t.Helper()
	var out, errw bytes.Buffer
	if err := run(t.Context(), []string{"keygen"}, nil, &out, &errw); err != nil {
		t.Fatalf("keygen: %v; stderr %s", err, errw.String())
	}
	p := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeygen(t *testing.T) {
	t.Chdir(t.TempDir()) // a command that opened a store would create ./sesame-data here
	var keys [2][]byte
	for i := range keys {
		var out, errw bytes.Buffer
		if err := run(t.Context(), []string{"keygen"}, nil, &out, &errw); err != nil {
			t.Fatalf("keygen: %v", err)
		}
		if out.Len() != 32 || errw.Len() != 0 {
			t.Fatalf("keygen: stdout %d bytes, stderr %q; want exactly the 32 key bytes and nothing else", out.Len(), errw.String())
		}
		keys[i] = out.Bytes()
	}
	if bytes.Equal(keys[0], keys[1]) {
		t.Error("two keygen runs wrote the same key")
	}

	key := keygen(t)
	out, stderr, err := runCLI(t, "keygen", "--fingerprint", key)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{16}\n$`).MatchString(out) || stderr != "" {
		t.Errorf("keygen --fingerprint: stdout %q, stderr %q, %v; want 16 hex digits and a newline", out, stderr, err)
	}
	if again, _, _ := runCLI(t, "keygen", "--fingerprint", key); again != out {
		t.Errorf("the same key's fingerprint twice: %q then %q", out, again)
	}
	if other, _, _ := runCLI(t, "keygen", "--fingerprint", keygen(t)); other == out {
		t.Errorf("two keys, one fingerprint %q", out)
	}

	missing := filepath.Join(t.TempDir(), "nope.key")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "--fingerprint", missing}, missing},
		{[]string{"keygen", "extra"}, `unexpected argument "extra"`},
		{[]string{"keygen", "--data", "x"}, "flag provided but not defined"},
	} {
		out, _, err := runCLI(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || out != "" {
			t.Errorf("%q: stdout %q, error %v; want no output and an error with %q", tt.args, out, err, tt.want)
		}
	}
	if _, err := os.Stat("sesame-data"); !os.IsNotExist(err) {
		t.Errorf("keygen created ./sesame-data (stat: %v)", err)
	}
}

// TestKeygen_SharedKeyFile: a key from sesame keygen is a secret_key_file
// that every command accepts. A token made by one process (token create,
// given the key in a YAML file) works in a server process started with
// the same key file (from the environment) and data directory, and not
// in one started with another key.
func TestKeygen_SharedKeyFile(t *testing.T) {
	t.Parallel()
	dir, key := t.TempDir(), keygen(t)
	conf := writeFile(t, "sesame.yaml", fmt.Sprintf("secret_key_file: %q\n", key))
	var out, errw strings.Builder
	err := run(t.Context(), []string{"token", "create", "--config", conf, "--data", dir, "--name", "ci", "--scopes", "admin"}, nil, &out, &errw)
	if err != nil {
		t.Fatalf("token create: %v; stderr %s", err, errw.String())
	}
	token := strings.TrimSpace(out.String())
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
		t.Errorf("with secret_key_file set, token create made a secret.key in the data directory (stat: %v)", err)
	}

	status := func(base string) int {
		t.Helper()
		req := postJSON(t, base+"/v1/list", `{}`)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	p := startProc(t, dir, "SESAME_SECRET_KEY_FILE="+key)
	if got := status(p.base); got != http.StatusOK {
		t.Errorf("the token in a server with the same key file: got %d, want 200", got)
	}
	p.kill()
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
		t.Errorf("with secret_key_file set, serve made a secret.key in the data directory (stat: %v)", err)
	}
	p = startProc(t, dir, "SESAME_SECRET_KEY_FILE="+keygen(t))
	if got := status(p.base); got != http.StatusUnauthorized {
		t.Errorf("the token in a server with another key file: got %d, want 401", got)
	}
}

// TestKeyFileRefused: a named key file that is missing or not a key stops
// every command before it creates anything, with a message naming the file.
func TestKeyFileRefused(t *testing.T) {
	t.Parallel()
	malformed := writeFile(t, "text.key", strings.Repeat("ab", 32)+"\n")
	missing := filepath.Join(t.TempDir(), "missing.key")
	commands := [][]string{{"serve", "--listen", "127.0.0.1:0"}, {"token", "list"}, {"migrate"}, {"mcp"}}
	for _, tt := range []struct {
		name, file, want string
	}{
		{"Missing", missing, "does not exist"},
		{"Malformed", malformed, "malformed"},
	} {
		for _, cmd := range commands {
			t.Run(tt.name+"/"+cmd[0], func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "data")
				args := append(append([]string(nil), cmd...), "--data", dir)
				environ := []string{"SESAME_SECRET_KEY_FILE=" + tt.file, "SESAME_TOKEN=sst_x"}
				// Bounded, so that a serve that wrongly starts ends the test.
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				var out, errw strings.Builder
				err := run(ctx, args, environ, &out, &errw)
				if err == nil || !strings.Contains(err.Error(), tt.file) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%q: got %v, want an error naming %s with %q", args, err, tt.file, tt.want)
				}
				if out.Len() != 0 {
					t.Errorf("%q: stdout %q, want nothing", args, out.String())
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("%q created %s (stat: %v)", args, dir, err)
				}
			})
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the missing key file was created (stat: %v)", err)
	}
}
