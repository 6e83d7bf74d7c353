package gateway_test

import (
	"net/http"
	"strings"

	"github.com/sesame-share/sesame"
)

// Bad input to what is not an endpoint of its own: unknown routes,
// capability URLs with bad secrets, and the upload poll GET /request/{id}.

// badRouteCases are unknown endpoints and capability URLs with bad secrets.
func badRouteCases(f badFixtures) []badCase {
	garbage := strings.Repeat("x", 43)
	return []badCase{
		{"POST_v1_nope", badReq{path: "/v1/nope", body: bj{}}, wNotFound()},
		{"POST_v1beta_nope", badReq{path: "/v1beta/nope", body: bj{}}, wNotFound()},
		{"GET_v2_put", badReq{method: http.MethodGet, path: "/v2/put"}, wNotFound()},
		{"POST_v2_put", badReq{path: "/v2/put", body: bj{}}, wNotFound()},
		{"GET_v1_put", badReq{method: http.MethodGet, path: "/v1/put"}, badWant{}},
		{"DELETE_v1_delete", badReq{method: http.MethodDelete, path: "/v1/delete"}, badWant{}},
		{"PATCH_v1beta_update", badReq{method: http.MethodPatch, path: "/v1beta/update", body: bj{}}, badWant{}},
		{"POST_v1_Put_case", badReq{path: "/v1/Put", body: bj{}}, wNotFound()},
		{"POST_v1_put_extra", badReq{path: "/v1/put/extra", body: bj{}}, wNotFound()},
		{"POST_v1_share_link_nope", badReq{path: "/v1/share/link/nope", body: bj{}}, wNotFound()},
		{"POST_v1", badReq{path: "/v1", body: bj{}}, wNotFound()},
		{"POST_root", badReq{path: "/", body: bj{}}, wNotFound()},
		{"GET_root", badReq{method: http.MethodGet, path: "/"}, wNotFound()},
		{"POST_v1_nope_no_token", badReq{path: "/v1/nope", body: bj{}, auth: badNoAuth}, wNotFound()},
		{"GET_dl_garbage", badReq{method: http.MethodGet, path: "/dl/garbage"}, wNotFound()},
		{"GET_dl_garbage_long", badReq{method: http.MethodGet, path: "/dl/" + garbage, auth: badNoAuth}, wNotFound()},
		{"GET_dl_garbage_name", badReq{method: http.MethodGet, path: "/dl/" + garbage + "/a.txt", auth: badNoAuth}, wNotFound()},
		{"POST_dl_garbage", badReq{path: "/dl/" + garbage, body: bj{}}, badWant{}},
		{"POST_upload_garbage_empty", badReq{path: "/upload/garbage", auth: badNoAuth}, wNotFound()},
		{"POST_upload_garbage_form", badReq{path: "/upload/" + garbage, body: "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n\r\nhi\r\n--b--\r\n", ctype: "multipart/form-data; boundary=b", auth: badNoAuth}, wNotFound()},
		{"PUT_upload_garbage", badReq{method: http.MethodPut, path: "/upload/" + garbage, body: "bytes", ctype: "application/octet-stream", auth: badNoAuth}, wNotFound()},
		{"PUT_upload_garbage_with_token", badReq{method: http.MethodPut, path: "/upload/garbage", body: "bytes", ctype: "application/octet-stream"}, wNotFound()},
		{"GET_upload_garbage", badReq{method: http.MethodGet, path: "/upload/garbage"}, badWant{}},
		{"GET_request_unknown", badReq{method: http.MethodGet, path: "/request/prq_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, wNotFound()},
		{"GET_request_garbage", badReq{method: http.MethodGet, path: "/request/x"}, wNotFound()},
		{"GET_request_object_id", badReq{method: http.MethodGet, path: "/request/" + f.a.ID}, wNotFound()},
		{"GET_request_no_token", badReq{method: http.MethodGet, path: "/request/prq_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", auth: badNoAuth}, wUnauthorized()},
		{"GET_request_revoked_token", badReq{method: http.MethodGet, path: "/request/prq_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", auth: "Bearer " + f.revoked}, wUnauthorized()},
		{"GET_request_links_token", badReq{method: http.MethodGet, path: "/request/prq_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", auth: "Bearer " + f.linksOnly}, badWant{http: http.StatusForbidden}},
	}
}

// moreRequestCases poll GET /request/{id} wrongly.
func moreRequestCases(f moreFixtures) []moreCase {
	g := func(name, path, auth string, w badWant) moreCase {
		return moreCase{name: "request/" + name, req: badReq{method: http.MethodGet, path: path, auth: auth}, want: w}
	}
	return []moreCase{
		g("UpperCase", "/request/"+strings.ToUpper(f.pending), "", wNotFound()),
		g("NUL", "/request/prq_%00"+strings.Repeat("a", 31), "", wNotFound()),
		g("InvalidUTF8", "/request/prq_%FF%FE", "", wNotFound()),
		g("Long", "/request/prq_"+strings.Repeat("a", 8000), "", wNotFound()),
		g("LinkID", "/request/"+f.live, "", wNotFound()),
		g("SQLish", "/request/prq_'%20OR%20'1'='1", "", wNotFound()),
		g("OtherTokensRequest", "/request/"+f.pending, "Bearer "+f.objWrite, wNotFound()),
		g("ObjectsReadToken", "/request/"+f.pending, "Bearer "+f.bad.readOnly, wForbidden(sesame.ScopeObjectsWrite)),
		g("GarbageToken", "/request/"+f.pending, "Bearer garbage", wUnauthorized()),
		g("TrailingSegment", "/request/"+f.pending+"/x", "", wNotFound()),
		{name: "request/POST", req: badReq{path: "/request/" + f.pending, body: bj{}}, want: wNotFound()},
		{name: "request/DELETE", req: badReq{method: http.MethodDelete, path: "/request/" + f.pending}, want: wNotFound()},
	}
}
