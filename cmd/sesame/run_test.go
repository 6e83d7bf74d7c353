package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

func TestParseLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90d", 90 * 24 * time.Hour},
		{"1d", 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"12h", 12 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
	}
	for _, tt := range tests {
		got, err := parseLifetime(tt.in)
		if err != nil {
			t.Errorf("parseLifetime(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("parseLifetime(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"0d", "-1d", "abc", "", "0h", "-5h", "0w", "1.5d", "d", "w", "90 d", "1000000000d", "100000000000w"} {
		got, err := parseLifetime(in)
		if err == nil {
			t.Errorf("parseLifetime(%q): got %v, want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), "--expires") || !strings.Contains(err.Error(), "\""+in+"\"") {
			t.Errorf("parseLifetime(%q): got error %q, want it to name --expires and the value", in, err)
		}
	}
}

// runCLI runs the program with an empty environment.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errw strings.Builder
	err = run(t.Context(), args, nil, &out, &errw)
	return out.String(), errw.String(), err
}

var secretRE = regexp.MustCompile(`^sst_[A-Za-z0-9_-]{43}$`)

// listRow is one token in the output of token list.
type listRow struct{ id, name, scopes, status string }

func tokenList(t *testing.T, dir string) map[string]listRow {
	t.Helper()
	out, stderr, err := runCLI(t, "token", "list", "--data", dir)
	if err != nil {
		t.Fatalf("token list: %v (stderr %q)", err, stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID") || !strings.HasSuffix(strings.TrimSpace(lines[0]), "STATUS") {
		t.Fatalf("token list: got %q, want a header line first", out)
	}
	rows := map[string]listRow{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 4 {
			t.Fatalf("token list: short line %q", l)
		}
		rows[f[0]] = listRow{id: f[0], name: f[1], scopes: f[2], status: f[len(f)-1]}
	}
	return rows
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	before := time.Now()
	out, stderr, err := runCLI(t, "token", "create", "--name", "ci", "--scopes", "objects:read,links:write", "--expires", "90d", "--data", dir)
	after := time.Now()
	if err != nil {
		t.Fatalf("token create: %v (stderr %q)", err, stderr)
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create: stdout %q, want exactly one line", out)
	}
	secret := strings.TrimSuffix(out, "\n")
	if !secretRE.MatchString(secret) {
		t.Fatalf("token create: stdout %q, want sst_ and 43 base64url characters", secret)
	}
	if strings.Contains(stderr, secret) {
		t.Errorf("token create: the secret is on stderr too: %q", stderr)
	}

	// The printed secret is the real credential, with the right name,
	// scopes and expiry.
	st := testrig.OpenStore(t, dir, nil, nil)
	tok, err := st.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatalf("Authenticate(printed secret): %v", err)
	}
	st.Close()
	if tok.Name != "ci" {
		t.Errorf("token name: got %q, want %q", tok.Name, "ci")
	}
	if diff := cmp.Diff([]sesame.Scope{sesame.ScopeObjectsRead, sesame.ScopeLinksWrite}, tok.Scopes); diff != "" {
		t.Errorf("token scopes (-want +got):\n%s", diff)
	}
	const life = 90 * 24 * time.Hour
	if tok.Expires.Before(before.Add(life).Add(-time.Second)) || tok.Expires.After(after.Add(life).Add(time.Second)) {
		t.Errorf("token expires %v, want 90 days after %v", tok.Expires, before)
	}
	if !strings.Contains(stderr, tok.ID) {
		t.Errorf("token create: stderr %q, want it to name the id %s", stderr, tok.ID)
	}

	// A second token, without expiry, to check that list and revoke act on one row.
	out2, stderr2, err := runCLI(t, "token", "create", "--data", dir, "--name", "backup", "--scopes", "admin")
	if err != nil {
		t.Fatalf("token create backup: %v (stderr %q)", err, stderr2)
	}
	if !secretRE.MatchString(strings.TrimSuffix(out2, "\n")) || strings.TrimSuffix(out2, "\n") == secret {
		t.Fatalf("token create backup: stdout %q, want a new secret", out2)
	}

	rows := tokenList(t, dir)
	if len(rows) != 2 {
		t.Fatalf("token list: got %d tokens, want 2: %v", len(rows), rows)
	}
	if diff := cmp.Diff(listRow{tok.ID, "ci", "objects:read,links:write", "active"}, rows[tok.ID], cmp.AllowUnexported(listRow{})); diff != "" {
		t.Errorf("token list row (-want +got):\n%s", diff)
	}

	// The usage puts the id before the flags; both orders work.
	if _, stderr, err := runCLI(t, "token", "revoke", tok.ID, "--data", dir); err != nil {
		t.Fatalf("token revoke ID --data: %v (stderr %q)", err, stderr)
	}
	rows = tokenList(t, dir)
	if got := rows[tok.ID].status; got != "revoked" {
		t.Errorf("after revoke: status of %s: got %q, want revoked", tok.ID, got)
	}
	for id, r := range rows {
		if id != tok.ID && r.status != "active" {
			t.Errorf("after revoke: status of the other token %s: got %q, want active", id, r.status)
		}
	}
	st = testrig.OpenStore(t, dir, nil, nil)
	if _, err := st.Authenticate(context.Background(), secret); sesame.KindOf(err) != sesame.Unauthenticated {
		t.Errorf("Authenticate(revoked secret): got %v, want Unauthenticated", err)
	}
	st.Close()

	// Revoking again is harmless; flags before the id work too.
	if _, stderr, err := runCLI(t, "token", "revoke", "--data", dir, tok.ID); err != nil {
		t.Errorf("token revoke --data ID (again): %v (stderr %q)", err, stderr)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"unknown scope", []string{"token", "create", "--name", "ci", "--scopes", "objects:read,objects:destroy"}, []string{`unknown scope "objects:destroy"`}},
		{"no name", []string{"token", "create", "--scopes", "objects:read"}, []string{"name"}},
		{"blank name", []string{"token", "create", "--name", "  ", "--scopes", "objects:read"}, []string{"name"}},
		{"no scopes", []string{"token", "create", "--name", "ci"}, []string{"scope"}},
		{"bad expiry", []string{"token", "create", "--name", "ci", "--scopes", "admin", "--expires", "0d"}, []string{"--expires", `"0d"`}},
		{"unknown id", []string{"token", "revoke", "stk_unknownunknownunknownunknown00"}, []string{"stk_unknownunknownunknownunknown00"}},
		{"revoke without id", []string{"token", "revoke"}, []string{"token id"}},
		{"revoke two ids", []string{"token", "revoke", "stk_a", "stk_b"}, []string{"token id"}},
		{"unknown flag", []string{"token", "create", "--nme", "ci"}, []string{"nme"}},
		{"stray argument to create", []string{"token", "create", "--name", "my", "token", "--scopes", "admin"}, []string{`unexpected argument "token"`}},
		{"stray argument to list", []string{"token", "list", "all"}, []string{`unexpected argument "all"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCLI(t, append(tt.args, "--data", dir)...)
			if err == nil {
				t.Fatalf("%q: got nil error, want one containing %q", tt.args, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q: got error %q, want it to contain %q", tt.args, err, w)
				}
			}
			if out != "" {
				t.Errorf("%q: stdout %q, want nothing", tt.args, out)
			}
		})
	}
	// Nothing above created a token.
	st := testrig.OpenStore(t, dir, nil, nil)
	tokens, err := st.FindTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 0 {
		t.Errorf("after failed commands: %d tokens, want 0", len(tokens))
	}
}

func TestTokenBadSubcommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"token"}, {"token", "lsit", "--data", dir}} {
		_, _, err := runCLI(t, args...)
		if err == nil {
			t.Errorf("%q: got nil error, want one", args)
			continue
		}
		if !strings.Contains(err.Error(), "create, list or revoke") {
			t.Errorf("%q: got error %q, want it to list the subcommands", args, err)
		}
	}
	// A typo must not create a data directory (and a key and a database).
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("token lsit created %s (stat: %v)", dir, err)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"help", "-h", "--help"} {
		t.Run(cmd, func(t *testing.T) {
			out, stderr, err := runCLI(t, cmd)
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			if out != usage {
				t.Errorf("%s: stdout %q, want the usage", cmd, out)
			}
			if stderr != "" {
				t.Errorf("%s: stderr %q, want nothing", cmd, stderr)
			}
		})
	}
	t.Run("unknown command", func(t *testing.T) {
		out, stderr, err := runCLI(t, "frobnicate", "--data", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), `"frobnicate"`) {
			t.Errorf("frobnicate: got error %v, want one naming the command", err)
		}
		if stderr != usage {
			t.Errorf("frobnicate: stderr %q, want the usage", stderr)
		}
		if out != "" {
			t.Errorf("frobnicate: stdout %q, want nothing", out)
		}
	})
	t.Run("usage names real keys", func(t *testing.T) {
		// The environment example in the usage must be a real key.
		m := regexp.MustCompile(`SESAME_[A-Z_]+[A-Z]`).FindAllString(usage, -1)
		var c Config
		keys := envKeys(&c)
		for _, k := range m {
			if _, ok := keys[k]; !ok && !notConfig[k] {
				t.Errorf("usage mentions %s, which is not a configuration key", k)
			}
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	out, stderr, err := runCLI(t, "migrate", "--data", dir)
	if err != nil {
		t.Fatalf("migrate: %v (stderr %q)", err, stderr)
	}
	if out != "" {
		t.Errorf("migrate: stdout %q, want nothing", out)
	}
	if !strings.Contains(stderr, "up to date") {
		t.Errorf("migrate: stderr %q, want it to say the database is up to date", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "sesame.db")); err != nil {
		t.Errorf("migrate: no database: %v", err)
	}
}
