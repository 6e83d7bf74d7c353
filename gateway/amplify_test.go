package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
)

// repeatedBody builds {"<key>":[<item>,<item>,…]} with n items.
func repeatedBody(key, item string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"` + key + `":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// unknownKeysBody builds an object with n keys no request knows.
func unknownKeysBody(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":0`, i)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// maxErrorReply bounds the reply to a request with too many problems: 20
// errors of a line each and the envelope.
const maxErrorReply = 16 << 10

// A body of a megabyte with one problem per element gets at most
// sesame.MaxFieldErrors errors, the first ones in document order, in a
// reply of a few kilobytes.
func TestAPI_ErrorAmplification(t *testing.T) {
	e := newTestEnv(t)
	for _, tt := range []struct {
		name, path string
		body       []byte
		code       string
		source     func(i int) string
	}{
		{"ArchiveIDs", "/v1/get_archive", repeatedBody("ids", "0", 500_000), "InvalidString",
			func(i int) string { return fmt.Sprintf("/ids/%d", i) }},
		{"SendLinks", "/v1/share/link/send", repeatedBody("links", "0", 500_000), "InvalidObject",
			func(i int) string { return fmt.Sprintf("/links/%d", i) }},
		{"UnknownKeys", "/v1/get_archive", unknownKeysBody(90_000), "UnexpectedProperty",
			func(i int) string { return fmt.Sprintf("/k%d", i) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) > 1<<20 {
				t.Fatalf("test body is %d bytes, over the 1 MiB limit", len(tt.body))
			}
			r := e.post(tt.path, tt.body)
			if r.Code != http.StatusBadRequest || r.Status != "ValidationError" {
				t.Fatalf("got %d %s, want 400 ValidationError: %.300s", r.Code, r.Status, r.Raw)
			}
			if len(r.Raw) >= maxErrorReply {
				t.Errorf("reply is %d bytes, want under %d", len(r.Raw), maxErrorReply)
			}
			errs := r.Errors(t)
			if len(errs) != sesame.MaxFieldErrors {
				t.Fatalf("got %d errors, want %d", len(errs), sesame.MaxFieldErrors)
			}
			for i, it := range errs {
				if it.Code != tt.code || it.Source != tt.source(i) || it.Detail == "" {
					t.Errorf("error %d is %+v, want %s at %s", i, it, tt.code, tt.source(i))
				}
			}
		})
	}
}

// A request of a megabyte allocates no more than a small multiple of its
// own size, reading and answering included, whatever its shape: wrong
// elements, unknown keys, or a million empty items of the right type.
func TestAPI_ErrorAmplificationMemory(t *testing.T) {
	e := newTestEnv(t)
	for _, tt := range []struct {
		name, path string
		body       []byte
	}{
		{"ArchiveIDs", "/v1/get_archive", repeatedBody("ids", "0", 500_000)},
		{"ArchiveIDStrings", "/v1/get_archive", repeatedBody("ids", `""`, 340_000)},
		{"SendLinks", "/v1/share/link/send", repeatedBody("links", "0", 500_000)},
		{"CreateEmptyLinks", "/v1/share/link/create", repeatedBody("links", "{}", 340_000)},
		{"UnknownKeys", "/v1/get_archive", unknownKeysBody(90_000)},
		{"FilterKeys", "/v1/share/link/list", append(append([]byte(`{"filter":`), unknownKeysBody(90_000)...), '}')},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if len(body) > 1<<20 {
				t.Fatalf("test body is %d bytes, over the 1 MiB limit", len(body))
			}
			e.post(tt.path, `{}`) // warm up the connection and the route
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := e.post(tt.path, body)
			runtime.ReadMemStats(&after)
			if r.Code != http.StatusBadRequest {
				t.Fatalf("got %d, want 400: %.300s", r.Code, r.Raw)
			}
			const factor = 8
			got := after.TotalAlloc - before.TotalAlloc
			t.Logf("the request allocated %d bytes for its %d-byte body", got, len(body))
			if got > factor*uint64(len(body)) {
				t.Errorf("the request allocated %d bytes, want at most %d× its %d bytes", got, factor, len(body))
			}
		})
	}
}

// Every rule a link breaks is reported at once, each at its own pointer.
func TestLinkCreate_ReportsEveryProblem(t *testing.T) {
	e := newTestEnv(t)
	f := e.upload("/every", "a.txt", []byte("a"))
	r := e.post("/v1/share/link/create", map[string]any{"links": []any{map[string]any{
		"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)},
		"link_type": "bogus", "title": strings.Repeat("t", sesame.MaxTitleLen+1), "notify_email": "not an address",
	}}})
	if r.Code != http.StatusBadRequest || r.Status != "ValidationError" {
		t.Fatalf("got %d %s, want 400 ValidationError: %s", r.Code, r.Status, r.Raw)
	}
	var got []string
	for _, it := range r.Errors(t) {
		got = append(got, it.Code+" "+it.Source)
	}
	want := []string{"NotEnumMember /links/0/link_type", "AboveMaxLength /links/0/title", "BadFormatEmail /links/0/notify_email"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
