package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-share/sesame/internal/testrig"
)

// Bad input to the recipient portal under /s/.

// morePortal is the portal's fixtures: links of each type with a signed-in
// visitor each, objects in and out of them.
type morePortal struct {
	dl, ed, up, fail                  string // /s/<token> of each link
	dlID                              string
	dlV, edV, upV, edV2               *moreVisitor
	anonDL, anonFail                  *moreVisitor // signed out, holding a pre-session CSRF token
	big, note, dlFolder, outside      object
	edFolder, edSub, edFile, upFolder object
	dead                              []byte
}

// moreVisit opens a link's page as a new visitor and keeps its CSRF token.
func (e *testEnv) moreVisit(t *testing.T, base string, v *moreVisitor) *moreVisitor {
	t.Helper()
	if v == nil {
		v = e.moreNewVisitor(t)
	}
	r := e.moreSend(t, badReq{method: http.MethodGet, path: base, auth: badNoAuth}, v)
	if r.Code == http.StatusSeeOther {
		r = e.moreSend(t, badReq{method: http.MethodGet, path: r.Header.Get("Location"), auth: badNoAuth}, v)
	}
	if r.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d: %.300s", base, r.Code, r.Raw)
	}
	v.csrf = testrig.ParseHTML(t, string(r.Raw)).Value("csrf")
	if v.csrf == "" {
		t.Fatalf("no CSRF token on %s: %.500s", base, r.Raw)
	}
	return v
}

// moreSignIn signs a new visitor in with the link's password (authenticator 0).
func (e *testEnv) moreSignIn(t *testing.T, base string) *moreVisitor {
	t.Helper()
	v := e.moreVisit(t, base, nil)
	r := e.moreSend(t, badReq{path: base + "/password", body: url.Values{"csrf": {v.csrf}, "auth": {"0"}, "password": {morePassword}}, auth: badNoAuth}, v)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("sign in to %s: got %d: %.300s", base, r.Code, r.Raw)
	}
	return e.moreVisit(t, base, v)
}

func moreNewPortal(t *testing.T, env *testEnv) *morePortal {
	t.Helper()
	p := &morePortal{}
	p.dlFolder = env.mkdir("/pt/dl")
	p.big = env.upload("/pt/dl", "big.bin", bytes.Repeat([]byte("0123456789abcdef"), 256))
	p.note = env.upload("/pt/dl", "note.txt", []byte("a note\n"))
	p.outside = env.upload("/pt", "outside.txt", []byte("not shared"))
	p.edFolder = env.mkdir("/pt/ed")
	p.edSub = env.mkdir("/pt/ed/sub")
	p.edFile = env.upload("/pt/ed", "e.txt", []byte("editable"))
	p.upFolder = env.mkdir("/pt/up")
	pwAuth := []bj{morePasswordAuth(morePassword)}
	p.dlID, p.dl = env.moreLinkCreate(t, bj{"targets": []string{p.dlFolder.ID}, "authenticators": pwAuth, "title": "dl"})
	_, p.ed = env.moreLinkCreate(t, bj{"targets": []string{p.edFolder.ID}, "link_type": "editor", "authenticators": pwAuth})
	_, p.up = env.moreLinkCreate(t, bj{"targets": []string{p.upFolder.ID}, "link_type": "upload", "authenticators": pwAuth})
	_, p.fail = env.moreLinkCreate(t, bj{"targets": []string{p.note.ID}, "authenticators": []bj{morePasswordAuth(morePassword), moreEmailAuth("bob@example.com")}})
	p.dlV = env.moreSignIn(t, p.dl)
	p.edV = env.moreSignIn(t, p.ed)
	p.edV2 = env.moreSignIn(t, p.ed)
	p.upV = env.moreSignIn(t, p.up)
	p.anonDL = env.moreVisit(t, p.dl, nil)
	p.anonFail = env.moreVisit(t, p.fail, nil)
	p.dead = env.moreSend(t, badReq{method: http.MethodGet, path: "/s/x", auth: badNoAuth}, nil).Raw
	if !bytes.Contains(p.dead, []byte("not available")) {
		t.Fatalf("the dead page is not what it was: %.300s", p.dead)
	}
	return p
}

// morePortalCases are the recipient pages.
func morePortalCases(t *testing.T, f moreFixtures, p *morePortal) []moreCase {
	t.Helper()
	var cs []moreCase
	page := func(name string, who *moreVisitor, q badReq, codes ...int) {
		q.auth = badNoAuth
		var allowed []int
		if len(codes) > 0 {
			allowed = codes
		}
		cs = append(cs, moreCase{name: "portal/" + name, req: q, kind: morePage, codes: allowed, who: who})
	}
	get := func(path string, h ...string) badReq {
		q := badReq{method: http.MethodGet, path: path}
		if len(h) == 2 {
			q.header = map[string]string{h[0]: h[1]}
		}
		return q
	}
	head := func(path string, h ...string) badReq {
		q := get(path, h...)
		q.method = http.MethodHead
		return q
	}
	form := func(path string, kv ...string) badReq {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return badReq{path: path, body: v.Encode(), ctype: moreFormCT}
	}
	// rawForm sends kv as a form without escaping the values, so that
	// %-escapes in them arrive as the bytes they name.
	rawForm := func(path string, kv ...string) badReq {
		var parts []string
		for i := 0; i+1 < len(kv); i += 2 {
			parts = append(parts, url.QueryEscape(kv[i])+"="+kv[i+1])
		}
		return badReq{path: path, body: strings.Join(parts, "&"), ctype: moreFormCT}
	}

	// 1. Malformed and unknown tokens on every route: the dead page.
	validID := badUnknownObject
	routes := []struct{ method, suffix string }{
		{http.MethodGet, ""}, {http.MethodPost, "/password"}, {http.MethodPost, "/code/send"}, {http.MethodPost, "/code/verify"},
		{http.MethodPost, "/leave"}, {http.MethodGet, "/d/" + validID}, {http.MethodGet, "/f/" + validID}, {http.MethodHead, "/f/" + validID},
		{http.MethodGet, "/v/" + validID}, {http.MethodGet, "/view/" + validID}, {http.MethodGet, "/th/" + validID}, {http.MethodGet, "/zip"}, {http.MethodPost, "/zip"},
		{http.MethodPost, "/upload"}, {http.MethodPost, "/mkdir"}, {http.MethodGet, "/rename/" + validID}, {http.MethodPost, "/rename"},
		{http.MethodGet, "/delete/" + validID}, {http.MethodPost, "/delete"},
	}
	dlToken := strings.TrimPrefix(p.dl, "/s/")
	flipped := dlToken[:42] + map[bool]string{true: "B", false: "A"}[dlToken[42] == 'A']
	tokens := []struct{ name, token string }{
		{"Len1", "x"},
		{"Len42", strings.Repeat("a", 42)},
		{"Len43Unknown", strings.Repeat("a", 43)},
		{"Len44", strings.Repeat("a", 44)},
		{"Len4096", strings.Repeat("a", 4096)},
		{"NUL", "%00" + strings.Repeat("a", 42)},
		{"InvalidUTF8", "%FF" + strings.Repeat("a", 42)},
		{"Unicode", strings.Repeat("%C3%A9", 43)},
		{"Deleted", f.deletedToken},
		{"OneCharOff", flipped},
		{"RealPlusOne", dlToken + "a"},
	}
	for _, tk := range tokens {
		for _, rt := range routes {
			q := badReq{method: rt.method, path: "/s/" + tk.token + rt.suffix, auth: badNoAuth}
			if rt.method == http.MethodPost {
				q.body = "csrf=x&auth=0&password=x&code=123456&id=" + validID + "&name=x&folder=" + validID
				q.ctype = moreFormCT
			}
			name := strings.Trim(strings.ReplaceAll(rt.suffix, "/"+validID, "/id"), "/")
			if name == "" {
				name = "show"
			}
			cs = append(cs, moreCase{name: "portal/token/" + tk.name + "/" + rt.method + "_" + strings.ReplaceAll(name, "/", "_"), req: q, kind: moreDead, who: p.dlV})
		}
	}
	// gin resolves "..", so these are other paths and get the API's 404.
	for _, rt := range routes {
		q := badReq{method: rt.method, path: "/s/%2e%2e" + rt.suffix}
		if rt.method == http.MethodPost {
			q.body, q.ctype = "csrf=x", moreFormCT
		}
		name := strings.Trim(strings.ReplaceAll(rt.suffix, "/"+validID, "/id"), "/")
		page("route/DotDotToken/"+rt.method+"_"+strings.ReplaceAll(name, "/", "_"), p.dlV, q, http.StatusNotFound)
	}
	page("route/EmptyToken", nil, get("/s/"), http.StatusMovedPermanently, http.StatusNotFound)
	page("route/DoubleSlash", nil, get("/s//password"), http.StatusNotFound)
	page("route/UnknownPage", p.dlV, get(p.dl+"/admin"), http.StatusNotFound)
	page("route/PUT", p.dlV, badReq{method: http.MethodPut, path: p.dl, body: "x", ctype: "text/plain"}, http.StatusNotFound, http.StatusMethodNotAllowed)
	page("route/DELETE_leave", p.dlV, badReq{method: http.MethodDelete, path: p.dl + "/leave"}, http.StatusNotFound, http.StatusMethodNotAllowed)
	page("static/DotDot", nil, get("/static/../go.mod"), http.StatusNotFound)
	page("static/EncodedDotDot", nil, get("/static/%2e%2e/%2e%2e/go.mod"), http.StatusNotFound)
	page("static/NUL", nil, get("/static/portal.css%00.js"), http.StatusNotFound)
	page("static/Templates", nil, get("/static/../pages/dead.html"), http.StatusNotFound)
	page("static/UnknownKind", nil, get("/static/portal.exe"), http.StatusNotFound)
	page("static/Directory", nil, get("/static/"), http.StatusNotFound)

	// 2. Signed in to the download link: absurd ranges.
	var many, overlapping []string
	for i := range 200 {
		many = append(many, fmt.Sprintf("%d-%d", 2*i, 2*i+1))
		overlapping = append(overlapping, "0-1")
	}
	ranges := []struct{ name, value string }{
		{"FarPastEnd", "bytes=999999999999-"},
		{"SuffixZero", "bytes=-0"},
		{"Backwards", "bytes=5-1"},
		{"TwoHundredRanges", "bytes=" + strings.Join(many, ",")},
		{"TwoHundredOverlapping", "bytes=" + strings.Join(overlapping, ",")},
		{"OtherUnit", "items=0-1"},
		{"UpperCaseUnit", "BYTES=0-1"},
		{"DashOnly", "bytes=-"},
		{"Letters", "bytes=a-b"},
		{"DoubleDash", "bytes=--5"},
		{"StartOverflow", "bytes=99999999999999999999-"},
		{"SuffixOverflow", "bytes=-99999999999999999999"},
		{"ThreeNumbers", "bytes=1-2-3"},
		{"AtSize", fmt.Sprintf("bytes=%d-", len("0123456789abcdef")*256)},
		{"FullWidthDigits", "bytes=０-１"},
		{"NoDash", "bytes=5"},
		{"NegativeEnd", "bytes=1--1"},
		{"EmptySet", "bytes=,,,"},
	}
	bigURL := p.dl + "/f/" + p.big.ID
	for _, rg := range ranges {
		page("range/GET/"+rg.name, p.dlV, get(bigURL, "Range", rg.value), http.StatusRequestedRangeNotSatisfiable, http.StatusOK)
	}
	for _, rg := range ranges[:6] {
		page("range/HEAD/"+rg.name, p.dlV, head(bigURL, "Range", rg.value), http.StatusRequestedRangeNotSatisfiable, http.StatusOK)
		page("range/preview/"+rg.name, p.dlV, get(p.dl+"/v/"+p.note.ID, "Range", rg.value), http.StatusRequestedRangeNotSatisfiable, http.StatusOK)
	}
	page("range/IfRangeGarbage", p.dlV, badReq{method: http.MethodGet, path: bigURL, header: map[string]string{"Range": "bytes=5-1", "If-Range": "garbage"}}, http.StatusRequestedRangeNotSatisfiable, http.StatusOK)
	page("range/zip", p.dlV, get(p.dl+"/zip", "Range", "bytes=5-1"), http.StatusRequestedRangeNotSatisfiable, http.StatusOK)

	// 3. Signed in: ids that are not in the link.
	ids := []struct{ name, id string }{
		{"Short", "x"},
		{"Unknown", badUnknownObject},
		{"LinkID", f.live},
		{"Outside", p.outside.ID},
		{"OtherLinks", p.edFile.ID},
		{"Parent", p.outside.ParentID},
		{"Long", "pos_" + strings.Repeat("a", 5000)},
		{"NUL", "pos_%00" + strings.Repeat("a", 31)},
		{"InvalidUTF8", "%FF%FE"},
	}
	for _, id := range ids {
		for _, rt := range []string{"d", "f", "v", "view", "th"} {
			page("id/"+id.name+"/GET_"+rt, p.dlV, get(p.dl+"/"+rt+"/"+id.id), http.StatusNotFound)
		}
		page("id/"+id.name+"/HEAD_f", p.dlV, head(p.dl+"/f/"+id.id), http.StatusNotFound)
	}
	for _, id := range append(slices.Clone(ids[:4]), struct{ name, id string }{"OtherLinks", p.big.ID}, ids[6], ids[7]) {
		page("id/"+id.name+"/GET_rename", p.edV, get(p.ed+"/rename/"+id.id), http.StatusNotFound)
		page("id/"+id.name+"/GET_delete", p.edV, get(p.ed+"/delete/"+id.id), http.StatusNotFound)
	}

	// 4. Signed in: forms without or with a wrong CSRF token, bodies of the
	// wrong type, huge and invalid values.
	huge := strings.Repeat("n", 2<<20)
	// Multipart parts the server stops reading early stay under the 256 KiB
	// net/http drains, so the answer is not lost to a reset connection.
	hugePart := []byte(strings.Repeat("n", 200<<10))
	dlZip, edMkdir, edRename, edDelete := p.dl+"/zip", p.ed+"/mkdir", p.ed+"/rename", p.ed+"/delete"
	page("csrf/zip/None", p.dlV, form(dlZip, "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/Wrong", p.dlV, form(dlZip, "csrf", "x", "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/OtherSessions", p.dlV, form(dlZip, "csrf", p.edV.csrf, "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/PreSessions", p.dlV, form(dlZip, "csrf", p.anonDL.csrf, "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/Huge", p.dlV, form(dlZip, "csrf", huge, "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/InvalidUTF8", p.dlV, rawForm(dlZip, "csrf", "%FF%FE", "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/Twice", p.dlV, form(dlZip, "csrf", "x", "csrf", p.dlV.csrf, "id", p.big.ID), http.StatusForbidden)
	page("csrf/zip/InQuery", p.dlV, badReq{path: dlZip + "?csrf=" + url.QueryEscape(p.dlV.csrf), body: "id=" + p.big.ID, ctype: moreFormCT}, http.StatusForbidden)
	page("csrf/zip/JSON", p.dlV, badReq{path: dlZip, body: bj{"csrf": p.dlV.csrf, "id": []string{p.big.ID}}, ctype: "application/json"}, http.StatusForbidden)
	page("csrf/zip/TextPlain", p.dlV, badReq{path: dlZip, body: "csrf=" + p.dlV.csrf + "&id=" + p.big.ID, ctype: "text/plain"}, http.StatusForbidden)
	page("csrf/zip/MultipartNoBoundary", p.dlV, badReq{path: dlZip, body: "csrf=" + p.dlV.csrf, ctype: "multipart/form-data"}, http.StatusForbidden)
	page("csrf/leave/None", p.dlV, form(p.dl+"/leave"), http.StatusForbidden)
	page("csrf/leave/Wrong", p.dlV, form(p.dl+"/leave", "csrf", p.edV.csrf), http.StatusForbidden)
	page("csrf/mkdir/None", p.edV, form(edMkdir, "folder", p.edFolder.ID, "name", "never"), http.StatusForbidden)
	page("csrf/mkdir/OtherVisitors", p.edV, form(edMkdir, "csrf", p.edV2.csrf, "folder", p.edFolder.ID, "name", "never"), http.StatusForbidden)
	page("csrf/mkdir/JSON", p.edV, badReq{path: edMkdir, body: bj{"csrf": p.edV.csrf, "folder": p.edFolder.ID, "name": "never"}, ctype: "application/json"}, http.StatusForbidden)
	page("csrf/rename/None", p.edV, form(edRename, "id", p.edFile.ID, "name", "never.txt"), http.StatusForbidden)
	page("csrf/delete/None", p.edV, form(edDelete, "id", p.edFile.ID), http.StatusForbidden)
	page("csrf/delete/Empty", p.edV, form(edDelete, "csrf", "", "id", p.edFile.ID), http.StatusForbidden)

	manyIDs := make([]string, 0, 20000)
	for i := range 10000 {
		manyIDs = append(manyIDs, "id", fmt.Sprintf("pos_%032d", i))
	}
	page("zip/NothingSelected", p.dlV, form(dlZip, "csrf", p.dlV.csrf), http.StatusSeeOther) // back to the list, with a note
	page("zip/IDGarbage", p.dlV, form(dlZip, "csrf", p.dlV.csrf, "id", "garbage"), http.StatusNotFound)
	page("zip/IDOutside", p.dlV, form(dlZip, "csrf", p.dlV.csrf, "id", p.big.ID, "id", p.outside.ID), http.StatusNotFound)
	page("zip/IDInvalidUTF8", p.dlV, rawForm(dlZip, "csrf", p.dlV.csrf, "id", "%FF"), http.StatusNotFound)
	page("zip/IDHuge", p.dlV, form(dlZip, "csrf", p.dlV.csrf, "id", huge), http.StatusNotFound)
	page("zip/9999IDs", p.dlV, form(dlZip, append([]string{"csrf", p.dlV.csrf}, manyIDs[:2*9999]...)...), http.StatusNotFound)
	// 10,001 fields are more than net/url parses (GODEBUG urlmaxqueryparams):
	// the form reads as empty, so the CSRF check refuses it.
	page("zip/TenThousandIDs", p.dlV, form(dlZip, append([]string{"csrf", p.dlV.csrf}, manyIDs...)...))

	page("mkdir/DownloadLink", p.dlV, form(p.dl+"/mkdir", "csrf", p.dlV.csrf, "folder", p.dlFolder.ID, "name", "never"), http.StatusForbidden)
	page("mkdir/FolderGarbage", p.edV, form(edMkdir, "csrf", p.edV.csrf, "folder", "garbage", "name", "never"), http.StatusNotFound)
	page("mkdir/FolderMissing", p.edV, form(edMkdir, "csrf", p.edV.csrf, "name", "never"), http.StatusNotFound)
	page("mkdir/FolderOutside", p.edV, form(edMkdir, "csrf", p.edV.csrf, "folder", p.dlFolder.ID, "name", "never"), http.StatusNotFound)
	page("mkdir/FolderIsFile", p.edV, form(edMkdir, "csrf", p.edV.csrf, "folder", p.edFile.ID, "name", "never"), http.StatusBadRequest)
	badNames := []struct{ name, raw string }{
		{"Empty", ""},
		{"Spaces", "%20%20%20"},
		{"Dot", "."},
		{"DotDot", ".."},
		{"Slash", "a%2Fb"},
		{"Backslash", "a%5Cb"},
		{"NUL", "a%00b"},
		{"Newline", "a%0Ab"},
		{"InvalidUTF8", "%FF%FE"},
		{"Reserved", "CON"},
		{"TrailingDot", "name."},
		{"Huge", strings.Repeat("n", 2<<20)},
		{"Long", strings.Repeat("n", 256)},
	}
	for _, n := range badNames {
		page("mkdir/Name"+n.name, p.edV, rawForm(edMkdir, "csrf", p.edV.csrf, "folder", p.edFolder.ID, "name", n.raw), http.StatusBadRequest)
		page("rename/Name"+n.name, p.edV, rawForm(edRename, "csrf", p.edV.csrf, "id", p.edFile.ID, "name", n.raw), http.StatusBadRequest)
	}
	page("rename/Target", p.edV, form(edRename, "csrf", p.edV.csrf, "id", p.edFolder.ID, "name", "never"), http.StatusForbidden)
	page("rename/IDGarbage", p.edV, form(edRename, "csrf", p.edV.csrf, "id", "garbage", "name", "never"), http.StatusNotFound)
	page("rename/IDMissing", p.edV, form(edRename, "csrf", p.edV.csrf, "name", "never"), http.StatusNotFound)
	page("rename/IDOutside", p.edV, form(edRename, "csrf", p.edV.csrf, "id", p.outside.ID, "name", "never"), http.StatusNotFound)
	page("rename/DownloadLink", p.dlV, form(p.dl+"/rename", "csrf", p.dlV.csrf, "id", p.big.ID, "name", "never"), http.StatusForbidden)
	page("delete/Target", p.edV, form(edDelete, "csrf", p.edV.csrf, "id", p.edFolder.ID), http.StatusForbidden)
	page("delete/IDGarbage", p.edV, form(edDelete, "csrf", p.edV.csrf, "id", "garbage"), http.StatusNotFound)
	page("delete/IDMissing", p.edV, form(edDelete, "csrf", p.edV.csrf), http.StatusNotFound)
	page("delete/IDOutside", p.edV, form(edDelete, "csrf", p.edV.csrf, "id", p.outside.ID), http.StatusNotFound)
	page("delete/IDNUL", p.edV, rawForm(edDelete, "csrf", p.edV.csrf, "id", "pos_%00"), http.StatusNotFound)
	page("delete/DownloadLink", p.dlV, form(p.dl+"/delete", "csrf", p.dlV.csrf, "id", p.big.ID), http.StatusForbidden)
	page("confirm/DownloadLink", p.dlV, get(p.dl+"/rename/"+p.big.ID), http.StatusForbidden)
	page("confirm/Target", p.edV, get(p.ed+"/delete/"+p.edFolder.ID), http.StatusForbidden)
	page("upload/DownloadLink", p.dlV, badReq{path: p.dl + "/upload", body: "x", ctype: "multipart/form-data; boundary=b"}, http.StatusForbidden)
	page("download/UploadLink", p.upV, get(p.up+"/f/"+p.upFolder.ID), http.StatusForbidden)
	page("zip/UploadLink", p.upV, get(p.up+"/zip"), http.StatusForbidden)
	page("thumb/UploadLink", p.upV, get(p.up+"/th/"+p.upFolder.ID), http.StatusNotFound)

	// 5. Uploads that are not well-formed multipart forms.
	up := p.up + "/upload"
	csrfPart := part{"csrf", "", "", []byte(p.upV.csrf)}
	folderPart := part{"folder", "", "", []byte(p.upFolder.ID)}
	filePart := part{"file", "never.txt", "text/plain", []byte("never stored")}
	mp := func(parts ...part) (string, []byte) { return multipartBody(t, parts...) }
	goodCT, good := mp(csrfPart, folderPart, part{"file", "never.txt", "text/plain", bytes.Repeat([]byte("z"), 5000)})
	boundary := strings.TrimPrefix(goodCT, "multipart/form-data; boundary=")
	upload := func(name string, body any, ctype string, codes ...int) {
		page("upload/"+name, p.upV, badReq{path: up, body: body, ctype: ctype}, codes...)
		page("upload/"+name+"/JSON", p.upV, badReq{path: up, body: body, ctype: ctype, header: map[string]string{"Accept": "application/json"}}, codes...)
	}
	upload("FormEncoded", "csrf="+url.QueryEscape(p.upV.csrf)+"&folder="+p.upFolder.ID, moreFormCT, http.StatusBadRequest)
	upload("JSON", bj{"csrf": p.upV.csrf, "folder": p.upFolder.ID, "file": "aGk="}, "application/json", http.StatusBadRequest)
	upload("NoContentType", "x", moreNoCT, http.StatusBadRequest)
	upload("NoBoundary", good, "multipart/form-data", http.StatusBadRequest)
	upload("WrongBoundary", good, "multipart/form-data; boundary=nope", http.StatusBadRequest)
	upload("MalformedContentType", good, `multipart/form-data; boundary="`, http.StatusBadRequest)
	upload("Related", good, "multipart/related; boundary="+boundary, http.StatusBadRequest)
	upload("Garbage", "\x00\x01\x02 not multipart at all", goodCT, http.StatusBadRequest)
	upload("Empty", "", goodCT, http.StatusBadRequest)
	upload("TruncatedInFile", good[:len(good)-2000], goodCT, http.StatusBadRequest)
	upload("TruncatedInHeaders", good[:bytes.Index(good, []byte("Content-Disposition"))+10], goodCT, http.StatusBadRequest)
	upload("NoClosingBoundary", bytes.TrimSuffix(good, []byte("--"+boundary+"--\r\n")), goodCT, http.StatusBadRequest)
	ct, b := mp(filePart, csrfPart, folderPart)
	upload("FileBeforeCSRF", b, ct, http.StatusBadRequest)
	ct, b = mp(csrfPart, filePart, folderPart)
	upload("FileBeforeFolder", b, ct, http.StatusBadRequest)
	ct, b = mp(folderPart, filePart)
	upload("NoCSRF", b, ct, http.StatusBadRequest)
	ct, b = mp(part{"csrf", "", "", []byte("x")}, folderPart, filePart)
	upload("WrongCSRF", b, ct, http.StatusForbidden)
	ct, b = mp(part{"csrf", "", "", hugePart}, folderPart, filePart)
	upload("HugeCSRF", b, ct, http.StatusForbidden)
	ct, b = mp(part{"csrf", "", "", []byte{0xff, 0xfe}}, folderPart, filePart)
	upload("InvalidUTF8CSRF", b, ct, http.StatusForbidden)
	ct, b = mp(csrfPart, part{"folder", "", "", []byte("garbage")}, filePart)
	upload("FolderGarbage", b, ct, http.StatusNotFound)
	ct, b = mp(csrfPart, part{"folder", "", "", []byte(p.outside.ID)}, filePart)
	upload("FolderOutside", b, ct, http.StatusNotFound)
	ct, b = mp(csrfPart, part{"folder", "", "", hugePart}, filePart)
	upload("FolderHuge", b, ct, http.StatusNotFound)
	ct, b = mp(csrfPart, part{"folder", "", "", []byte{0xff, 0xfe}}, filePart)
	upload("FolderInvalidUTF8", b, ct, http.StatusNotFound)
	ct, b = mp(csrfPart, folderPart)
	upload("NoFile", b, ct, http.StatusBadRequest)
	ct, b = mp(csrfPart, folderPart, part{"file", "", "application/octet-stream", nil})
	upload("EmptyFileInput", b, ct, http.StatusBadRequest)
	ct, b = mp()
	upload("NoParts", b, ct, http.StatusBadRequest)
	ct, b = mp(csrfPart, folderPart, part{"files", "never.txt", "text/plain", []byte("x")})
	upload("WrongFieldName", b, ct, http.StatusBadRequest)
	ct, b = mp(filePart, filePart, filePart)
	upload("OnlyFiles", b, ct, http.StatusBadRequest)
	ct, b = mp(filePart, part{"csrf", "", "", []byte(p.edV.csrf)}, part{"folder", "", "", []byte(p.edFolder.ID)})
	page("upload/EditorFileBeforeCSRF", p.edV, badReq{path: p.ed + "/upload", body: b, ctype: ct}, http.StatusBadRequest)
	ct, b = mp(csrfPart, folderPart, filePart)
	page("upload/SignedOut", p.anonDL, badReq{path: p.dl + "/upload", body: b, ctype: ct}, http.StatusForbidden)

	// 6. Signed out: pages that need a session send the visitor to sign in;
	// forms are refused.
	in := func(name string, who *moreVisitor, q badReq) {
		q.auth = badNoAuth
		cs = append(cs, moreCase{name: "portal/signedout/" + name, req: q, kind: moreSignIn, who: who, base: p.dl})
	}
	in("GET_d", p.anonDL, get(p.dl+"/d/"+p.dlFolder.ID))
	in("GET_f", p.anonDL, get(p.dl+"/f/"+p.big.ID))
	in("HEAD_f", p.anonDL, head(p.dl+"/f/"+p.big.ID))
	in("GET_f_Range", p.anonDL, get(p.dl+"/f/"+p.big.ID, "Range", "bytes=999999999999-"))
	in("GET_v", p.anonDL, get(p.dl+"/v/"+p.note.ID))
	in("GET_view", p.anonDL, get(p.dl+"/view/"+p.note.ID))
	in("GET_th", p.anonDL, get(p.dl+"/th/"+p.big.ID))
	in("GET_zip", p.anonDL, get(p.dl+"/zip"))
	in("GET_rename", p.anonDL, get(p.dl+"/rename/"+p.big.ID))
	in("GET_delete", p.anonDL, get(p.dl+"/delete/"+p.big.ID))
	in("GET_d_garbage", p.anonDL, get(p.dl+"/d/garbage"))
	sessionCookie := "sesame_s_" + strings.TrimPrefix(p.dlID, "psl_")[:12]
	in("BadSessionCookie", nil, badReq{method: http.MethodGet, path: p.dl + "/d/" + p.dlFolder.ID, header: map[string]string{"Cookie": sessionCookie + "=garbage"}})
	in("HugeSessionCookie", nil, badReq{method: http.MethodGet, path: p.dl + "/d/" + p.dlFolder.ID, header: map[string]string{"Cookie": "sesame_pre=" + strings.Repeat("c", 6000)}})
	page("signedout/POST_zip", p.anonDL, form(dlZip, "csrf", p.anonDL.csrf, "id", p.big.ID), http.StatusForbidden)
	page("signedout/POST_mkdir", p.anonDL, form(p.dl+"/mkdir", "csrf", p.anonDL.csrf, "folder", p.dlFolder.ID, "name", "never"), http.StatusForbidden)
	page("signedout/POST_rename", p.anonDL, form(p.dl+"/rename", "csrf", p.anonDL.csrf, "id", p.big.ID, "name", "never"), http.StatusForbidden)
	page("signedout/POST_delete", p.anonDL, form(p.dl+"/delete", "csrf", p.anonDL.csrf, "id", p.big.ID), http.StatusForbidden)
	page("signedout/POST_upload", p.anonDL, badReq{path: p.dl + "/upload", body: "x", ctype: "multipart/form-data; boundary=b"}, http.StatusForbidden)

	// 7. Sign-in forms with bad input, on a link kept for failures (it may
	// throttle or lock as the failures add up; the answer stays a 4xx).
	fl, anon := p.fail, p.anonFail
	page("signin/password/NoCSRF", anon, form(fl+"/password", "auth", "0", "password", morePassword), http.StatusForbidden)
	page("signin/password/WrongCSRF", anon, form(fl+"/password", "csrf", p.anonDL.csrf, "auth", "0", "password", morePassword), http.StatusForbidden)
	page("signin/password/NoCookie", nil, form(fl+"/password", "csrf", anon.csrf, "auth", "0", "password", morePassword), http.StatusForbidden)
	page("signin/password/JSON", anon, badReq{path: fl + "/password", body: bj{"csrf": anon.csrf, "auth": "0", "password": morePassword}, ctype: "application/json"}, http.StatusForbidden)
	page("signin/password/MultipartNoBoundary", anon, badReq{path: fl + "/password", body: "csrf=" + anon.csrf, ctype: "multipart/form-data"}, http.StatusForbidden)
	for _, auth := range []struct{ name, raw string }{
		{"Missing", ""}, {"Letters", "x"}, {"Negative", "-1"}, {"Large", "99"}, {"Overflow", "99999999999999999999"},
		{"Exponent", "1e0"}, {"Space", "%200"}, {"Hex", "0x0"}, {"InvalidUTF8", "%FF"}, {"OtherType", "1"},
	} {
		page("signin/password/Auth"+auth.name, anon, rawForm(fl+"/password", "csrf", anon.csrf, "auth", auth.raw, "password", morePassword), http.StatusBadRequest)
	}
	page("signin/code-send/NoCSRF", anon, form(fl+"/code/send", "auth", "1"), http.StatusForbidden)
	page("signin/code-send/AuthPassword", anon, form(fl+"/code/send", "csrf", anon.csrf, "auth", "0"), http.StatusBadRequest)
	page("signin/code-send/AuthLetters", anon, form(fl+"/code/send", "csrf", anon.csrf, "auth", "one"), http.StatusBadRequest)
	page("signin/code-send/AuthLarge", anon, form(fl+"/code/send", "csrf", anon.csrf, "auth", "2"), http.StatusBadRequest)
	page("signin/code-verify/NoCSRF", anon, form(fl+"/code/verify", "auth", "1", "code", "123456"), http.StatusForbidden)
	page("signin/code-verify/AuthPassword", anon, form(fl+"/code/verify", "csrf", anon.csrf, "auth", "0", "code", "123456"), http.StatusBadRequest)
	for _, pwd := range []struct{ name, raw string }{
		{"Empty", ""}, {"InvalidUTF8", "%FF%FE%FD"}, {"NUL", "correct%00horse"}, {"Huge", strings.Repeat("p", 2<<20)},
	} {
		page("signin/password/Wrong"+pwd.name, anon, rawForm(fl+"/password", "csrf", anon.csrf, "auth", "0", "password", pwd.raw), http.StatusUnauthorized, http.StatusTooManyRequests)
	}
	for _, code := range []struct{ name, raw string }{
		{"Letters", "abcdef"}, {"Empty", ""}, {"InvalidUTF8", "%FF%FE"}, {"Huge", strings.Repeat("1", 2<<20)}, {"Negative", "-123456"},
	} {
		page("signin/code-verify/Code"+code.name, anon, rawForm(fl+"/code/verify", "csrf", anon.csrf, "auth", "1", "code", code.raw), http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusNotFound)
	}
	for _, sent := range []string{"-1", "99999999999999999999", "%FF", "1e3", "0x1", "<script>"} {
		page("signin/sent/"+url.PathEscape(sent), anon, get(fl+"?sent="+sent), http.StatusOK, http.StatusNotFound)
	}
	page("browse/done/Garbage", p.dlV, get(p.dl+"/d/"+p.dlFolder.ID+"?done=%3Cscript%3Ealert(1)%3C/script%3E"), http.StatusOK)
	page("browse/done/ForgedName", p.dlV, get(p.dl+"/d/"+p.dlFolder.ID+"?done=deleted&n=%3Cscript%3E&sig=AAAA"), http.StatusOK)
	page("browse/done/HugeName", p.dlV, get(p.dl+"/d/"+p.dlFolder.ID+"?done=deleted&n="+strings.Repeat("x", 1<<20)+"&sig=AAAA"), http.StatusOK, http.StatusRequestURITooLong, http.StatusBadRequest)
	return cs
}
