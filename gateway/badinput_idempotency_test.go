package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// Bad Idempotency-Key headers.

// moreIdemCases send bad Idempotency-Key headers. setup has already used
// the keys named here.
func moreIdemCases(t *testing.T, env *testEnv, f moreFixtures, ver string) []moreCase {
	t.Helper()
	v := strings.TrimPrefix(ver, "/")
	long := strings.Repeat("k", 256)
	tooLong := badWant{http: http.StatusBadRequest, status: "ValidationError", code: "AboveMaxLength", at: true, source: ""}
	reused := badWant{http: http.StatusUnprocessableEntity, status: "ValidationError"}
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
	linkBody := bj{"links": []bj{moreItem(f, "title", "idem "+v)}}
	sendBody := bj{"links": []bj{{"id": f.live, "email": "bob@example.com"}}, "sender_email": "alice@example.com"}

	// Setup: one success and one refusal per route, under known keys.
	mustOK(t, env.badSend(t, badReq{path: ver + "/folder/create", body: bj{"folder": "/idem/" + v + "/a"}, header: key("fc-" + v)}))
	mustOK(t, env.badSend(t, badReq{path: ver + "/share/link/create", body: linkBody, header: key("lc-" + v)}))
	refused := bj{"links": []bj{moreItem(f, "max_access_count", 0)}}
	if r := env.badSend(t, badReq{path: ver + "/share/link/create", body: refused, header: key("lc-bad-" + v)}); r.Code != http.StatusBadRequest {
		t.Fatalf("setup: got %d, want 400: %s", r.Code, r.Raw)
	}

	c := func(name string, q badReq, w badWant) moreCase {
		return moreCase{name: v + "/idempotency/" + name, req: q, want: w}
	}
	return []moreCase{
		c("TooLong/link-create", badReq{path: ver + "/share/link/create", body: linkBody, header: key(long)}, tooLong),
		c("TooLong/link-send", badReq{path: ver + "/share/link/send", body: sendBody, header: key(long)}, tooLong),
		c("TooLong/folder-create", badReq{path: ver + "/folder/create", body: bj{"folder": "/idem/" + v + "/long"}, header: key(long)}, tooLong),
		c("TooLong/put", badReq{path: ver + "/put", body: bj{"transfer_method": "put-url", "folder": "/idem/" + v, "name": "long.bin"}, header: key(long)}, tooLong),
		c("TooLong/4KiB", badReq{path: ver + "/share/link/create", body: linkBody, header: key(strings.Repeat("k", 4096))}, tooLong),
		c("TooLong/NoToken", badReq{path: ver + "/share/link/create", body: linkBody, header: key(long), auth: badNoAuth}, wUnauthorized()),
		c("Reused/OtherBody/folder-create", badReq{path: ver + "/folder/create", body: bj{"folder": "/idem/" + v + "/b"}, header: key("fc-" + v)}, reused),
		c("Reused/OtherBody/link-create", badReq{path: ver + "/share/link/create", body: bj{"links": []bj{moreItem(f, "title", "other")}}, header: key("lc-" + v)}, reused),
		c("Reused/OtherRoute", badReq{path: ver + "/share/link/send", body: sendBody, header: key("lc-" + v)}, reused),
		c("Reused/OtherVersion", badReq{path: map[string]string{"/v1": "/v1beta", "/v1beta": "/v1"}[ver] + "/folder/create", body: bj{"folder": "/idem/" + v + "/a"}, header: key("fc-" + v)}, reused),
		c("Reused/AfterRefusal/OtherBody", badReq{path: ver + "/share/link/create", body: bj{"links": []bj{moreItem(f, "max_access_count", -1)}}, header: key("lc-bad-" + v)}, reused),
		// A replay of a refusal is still a proper envelope whose x-request-id
		// matches its request_id.
		c("Replayed/Refusal", badReq{path: ver + "/share/link/create", body: refused, header: key("lc-bad-" + v)}, wBad("NotWithinRange", "/links/0/max_access_count")),
	}
}
