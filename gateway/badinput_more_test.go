package gateway_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// This file carries the bad-input sweep of badinput_test.go over the
// endpoints that sweep leaves out: the share-link API, audit and
// notification lists, the Idempotency-Key header, upload polls, MCP and
// the recipient portal under /s/.

// moreKind says how a case's answer is judged.
type moreKind int

const (
	moreAPI    moreKind = iota // a Pangea error envelope, judged by badCheck
	morePage                   // a portal answer: a status in codes (nil: any 4xx), never 5xx
	moreDead                   // the dead-link page, byte for byte, with 404
	moreSignIn                 // a 303 to the link's sign-in page
	moreAny                    // a well-formed MCP call with wrong arguments: anything but 5xx, and a 200 must carry an error
)

type moreCase struct {
	name  string
	req   badReq
	want  badWant      // moreAPI
	kind  moreKind     //
	codes []int        // morePage: the statuses allowed (nil: any 4xx)
	who   *moreVisitor // the visitor whose cookies go with the request (nil: none)
	base  string       // moreSignIn: the link's sign-in page
}

// moreGoText is what must never reach a visitor: traces of Go errors.
var moreGoText = []string{"runtime", "panic", "sql:", "nil pointer", "goroutine", "invalid memory address"}

const (
	morePassword = "correct horse battery staple"
	moreFormCT   = "application/x-www-form-urlencoded"
	moreNoCT     = "\x00none" // moreSend: send no Content-Type at all
)

// moreVisitor is a browser (testrig.Visitor: a cookie jar, no redirects
// followed) and the CSRF token of the forms it was last shown.
type moreVisitor struct {
	*testrig.Visitor
	csrf string
}

func (e *testEnv) moreNewVisitor(t *testing.T) *moreVisitor {
	t.Helper()
	return &moreVisitor{Visitor: testrig.NewVisitor(t, e.srv.URL, e.srv.Client().Transport)}
}

// moreSend issues q like badSend, but through who's cookie jar (or none),
// without following redirects, and without assuming a JSON answer. A POST
// with a body and no content type is sent as a form.
func (e *testEnv) moreSend(t *testing.T, q badReq, who *moreVisitor) *reply {
	t.Helper()
	var body []byte
	switch v := q.body.(type) {
	case nil:
	case string:
		body = []byte(v)
	case []byte:
		body = v
	case url.Values:
		body = []byte(v.Encode())
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	method := q.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, e.srv.URL+q.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case q.ctype == moreNoCT:
	case q.ctype != "":
		req.Header.Set("Content-Type", q.ctype)
	case q.body != nil && method == http.MethodPost:
		req.Header.Set("Content-Type", moreFormCT)
	}
	switch q.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+e.token)
	case badNoAuth:
	default:
		req.Header.Set("Authorization", q.auth)
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if who != nil {
		client = who.Client()
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %.200s: %v", method, q.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %.200s: read: %v", method, q.path, err)
	}
	r := &reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, r) // MCP and the upload script get other JSON; the checks say what they need
	}
	return r
}

// moreNoGoText fails t when an answer shows Go error text.
func moreNoGoText(t *testing.T, r *reply) {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	if r.Code < 300 && !strings.HasPrefix(ct, "text/html") {
		return // a download: its bytes are the file's
	}
	low := strings.ToLower(string(r.Raw))
	for _, w := range moreGoText {
		if strings.Contains(low, w) {
			t.Errorf("the answer (HTTP %d, %s) shows Go error text %q: %.400q", r.Code, ct, w, r.Raw)
		}
	}
}

func moreCheck(t *testing.T, c moreCase, r *reply, dead []byte) {
	t.Helper()
	if r.Code >= 500 {
		t.Errorf("got HTTP %d, want never a 5xx: %.400q", r.Code, r.Raw)
	}
	moreNoGoText(t, r)
	switch c.kind {
	case moreAPI:
		badCheck(t, r, c.want)
	case moreDead:
		if r.Code != http.StatusNotFound {
			t.Errorf("got HTTP %d, want 404 and the dead-link page: %.300q", r.Code, r.Raw)
		} else if c.req.method != http.MethodHead && !bytes.Equal(r.Raw, dead) {
			t.Errorf("got another 404 body, want the dead-link page byte for byte: %.300q", r.Raw)
		}
	case moreSignIn:
		if r.Code != http.StatusSeeOther || r.Header.Get("Location") != c.base {
			t.Errorf("got HTTP %d to %q, want 303 to the sign-in page %q: %.300q", r.Code, r.Header.Get("Location"), c.base, r.Raw)
		}
	case morePage:
		if c.codes == nil {
			if r.Code < 400 || r.Code > 499 {
				t.Errorf("got HTTP %d, want a 4xx: %.300q", r.Code, r.Raw)
			}
		} else if !slices.Contains(c.codes, r.Code) {
			t.Errorf("got HTTP %d (Content-Type %q, Content-Range %q, Content-Length %q), want one of %v: %.300q", r.Code,
				r.Header.Get("Content-Type"), r.Header.Get("Content-Range"), r.Header.Get("Content-Length"), c.codes, r.Raw)
		}
	case moreAny:
		switch {
		case r.Code == http.StatusOK:
			var msg struct {
				Error  json.RawMessage `json:"error"`
				Result struct {
					IsError bool `json:"isError"`
				} `json:"result"`
			}
			if err := json.Unmarshal(r.Raw, &msg); err != nil || (len(msg.Error) == 0 && !msg.Result.IsError) {
				t.Errorf("got 200 without a JSON-RPC error or a tool error: %.400q", r.Raw)
			}
		case r.Code >= 400 && r.Code <= 499:
		default:
			t.Errorf("got HTTP %d, want 200 with an error or a 4xx: %.300q", r.Code, r.Raw)
		}
	}
}

// moreFixtures are what the cases point at.
type moreFixtures struct {
	bad                    badFixtures
	live, live2, deleted   string // link ids
	deletedToken           string // the /s/ token of the deleted link
	linksWrite, objWrite   string // tokens: links:write only, objects:write only
	linkCursor, auditCurse string // real cursors: link list (asc by created_at), audit list (desc)
	pending                string // a pending put-url request of the admin token
}

// moreLinkCreate creates one link and returns its id and /s/ path.
func (e *testEnv) moreLinkCreate(t *testing.T, item bj) (id, base string) {
	t.Helper()
	sub := *e
	sub.t = t
	r := sub.post("/v1/share/link/create", bj{"links": []bj{item}})
	mustOK(t, r)
	var res struct {
		Links []struct {
			ID   string `json:"id"`
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	r.Into(t, &res)
	if len(res.Links) != 1 {
		t.Fatalf("got %d links, want 1: %s", len(res.Links), r.Raw)
	}
	return res.Links[0].ID, strings.TrimPrefix(res.Links[0].Link, e.srv.URL)
}

func moreEmailAuth(addr string) bj { return bj{"auth_type": "email_otp", "auth_context": addr} }
func morePasswordAuth(p string) bj { return bj{"auth_type": "password", "auth_context": p} }

func moreCursor(js string) string { return base64.RawURLEncoding.EncodeToString([]byte(js)) }

// moreLast reads the cursor of a list answer.
func moreLast(t *testing.T, r *reply) string {
	t.Helper()
	mustOK(t, r)
	var res struct {
		Last string `json:"last"`
	}
	r.Into(t, &res)
	if res.Last == "" {
		t.Fatalf("no cursor in %s", r.Raw)
	}
	return res.Last
}

func moreNewFixtures(t *testing.T, env *testEnv) moreFixtures {
	t.Helper()
	var f moreFixtures
	f.bad = newBadFixtures(t, env)
	item := func(title string) bj {
		return bj{"targets": []string{f.bad.a.ID}, "title": title, "authenticators": []bj{moreEmailAuth("bob@example.com")}}
	}
	f.live, _ = env.moreLinkCreate(t, item("live"))
	f.live2, _ = env.moreLinkCreate(t, item("live2"))
	var base string
	f.deleted, base = env.moreLinkCreate(t, item("deleted"))
	f.deletedToken = strings.TrimPrefix(base, "/s/")
	mustOK(t, env.post("/v1/share/link/delete", bj{"ids": []string{f.deleted}}))
	f.linksWrite = env.newToken(sesame.ScopeLinksWrite)
	f.objWrite = env.newToken(sesame.ScopeObjectsWrite)
	f.linkCursor = moreLast(t, env.post("/v1/share/link/list", bj{"size": 1}))
	f.auditCurse = moreLast(t, env.post("/v1/audit/list", bj{"size": 1}))
	_, loc := badAnnounce(t, env, bj{"transfer_method": "put-url", "folder": "/more", "name": "pending.bin"})
	f.pending = strings.TrimPrefix(loc, "/request/")
	return f
}

// moreItem is a valid link item with kv applied; a nil value removes the key.
func moreItem(f moreFixtures, kv ...any) bj {
	m := bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{moreEmailAuth("bob@example.com")}}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	return m
}

// moreLinkCases are the share-link endpoints, under ver.
func moreLinkCases(t *testing.T, f moreFixtures, ver string) []moreCase {
	t.Helper()
	var cs []moreCase
	add := func(ep string, rows ...moreCase) {
		for _, r := range rows {
			if r.req.path == "" {
				r.req.path = ver + "/share/link/" + ep
			}
			r.name = "link/" + ep + "/" + r.name
			cs = append(cs, r)
		}
	}
	a := func(name string, body any, w badWant) moreCase {
		return moreCase{name: name, req: badReq{body: body}, want: w}
	}
	auth := func(name, token string, w badWant) moreCase {
		return moreCase{name: name, req: badReq{body: bj{}, auth: token}, want: w}
	}
	unknownLink := badUnknownLink
	unknownObj := badUnknownObject
	deep := `{"links":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	huge := `{"title":"` + strings.Repeat("a", badMaxJSON+64) + `"}`
	generic := func() []moreCase {
		return []moreCase{
			a("NotJSON", "{nope", wPayload()),
			a("Array", "[]", wBad("InvalidObject", "/")),
			a("Null", "null", wBad("InvalidObject", "/")),
			a("BareNumber", "1e30", wBad("InvalidObject", "/")),
			a("InvalidUTF8", []byte("{\"title\":\"\xff\xfe\"}"), wPayload()),
			a("RawNULInString", []byte("{\"id\":\"a\x00b\"}"), wPayload()),
			a("TrailingGarbage", `{}{}`, wPayload()),
			a("TooDeep", deep, wPayload()),
			a("OverOneMiB", huge, wTooLarge()),
			a("UnknownField", `{"colour":"red"}`, wBad("UnexpectedProperty", "/colour")),
			a("BucketIDNotString", `{"bucket_id":5}`, wBad("InvalidString", "/bucket_id")),
			a("TenantIDNotString", `{"tenant_id":{}}`, wBad("InvalidString", "/tenant_id")),
			a("ConfigIDNotString", `{"config_id":[]}`, wBad("InvalidString", "/config_id")),
			auth("NoToken", badNoAuth, wUnauthorized()),
			auth("EmptyBearer", "Bearer ", wUnauthorized()),
			auth("GarbageToken", "Bearer sst_"+strings.Repeat("x", 43), wUnauthorized()),
			auth("RevokedToken", "Bearer "+f.bad.revoked, wUnauthorized()),
			{name: "NoTokenBadBody", req: badReq{body: "{nope", auth: badNoAuth}, want: wUnauthorized()},
		}
	}
	for _, ep := range []string{"create", "get", "list", "update", "delete", "send"} {
		add(ep, generic()...)
	}
	add("create", auth("ReadToken", "Bearer "+f.bad.linksOnly, wForbidden(sesame.ScopeLinksWrite)))
	add("update", auth("ReadToken", "Bearer "+f.bad.linksOnly, wForbidden(sesame.ScopeLinksWrite)))
	add("delete", auth("ReadToken", "Bearer "+f.bad.linksOnly, wForbidden(sesame.ScopeLinksWrite)))
	add("get", auth("ObjectsToken", "Bearer "+f.bad.readOnly, wForbidden(sesame.ScopeLinksRead)))
	add("list", auth("ObjectsToken", "Bearer "+f.bad.readOnly, wForbidden(sesame.ScopeLinksRead)))
	add("send", auth("WriteToken", "Bearer "+f.linksWrite, wForbidden(sesame.ScopeLinksSend)))

	it := func(kv ...any) bj { return bj{"links": []bj{moreItem(f, kv...)}} }
	manyTargets := make([]string, 10000)
	for i := range manyTargets {
		manyTargets[i] = f.bad.a.ID
	}
	manyTags := make([]string, 257)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("t%d", i)
	}
	manyAuths := make([]bj, 11)
	for i := range manyAuths {
		manyAuths[i] = moreEmailAuth(fmt.Sprintf("r%d@example.com", i))
	}
	manyItems := make([]bj, 101)
	for i := range manyItems {
		manyItems[i] = moreItem(f)
	}
	sp := func(kv ...any) bj {
		m := bj{"recipient_email": "bob@example.com", "sender_email": "alice@example.com"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	add("create",
		a("LinksMissing", bj{}, wBad("FieldRequired", "/links")),
		a("LinksNull", `{"links":null}`, wBad("FieldRequired", "/links")),
		a("LinksEmpty", bj{"links": []bj{}}, wBad("BelowMinItems", "/links")),
		a("LinksObject", bj{"links": moreItem(f)}, wBad("InvalidArray", "/links")),
		a("LinksString", bj{"links": "x"}, wBad("InvalidArray", "/links")),
		a("LinkItemNumber", bj{"links": []any{5}}, wBad("InvalidObject", "/links/0")),
		a("LinkItemArray", bj{"links": []any{[]any{}}}, wBad("InvalidObject", "/links/0")),
		a("LinksTooMany", bj{"links": manyItems}, wBad("AboveMaxItems", "/links")),
		a("ItemUnknownField", it("colour", "red"), wBad("UnexpectedProperty", "/links/0/colour")),
		a("ItemUnknownFieldEscaped", it("a/b~c", 1), wBad("UnexpectedProperty", "/links/0/a~1b~0c")),
		a("AuthUnknownField", it("authenticators", []bj{{"auth_type": "email_otp", "auth_context": "bob@example.com", "colour": "red"}}), wBad("UnexpectedProperty", "/links/0/authenticators/0/colour")),
		a("SendParamsUnknownField", it("send_params", sp("colour", "red")), wBad("UnexpectedProperty", "/links/0/send_params/colour")),
		a("TopLevelTargets", bj{"targets": []string{f.bad.a.ID}, "links": []bj{moreItem(f)}}, wBad("UnexpectedProperty", "/targets")),
		a("TargetsMissing", it("targets", nil), wBad("FieldRequired", "/links/0/targets")),
		a("TargetsEmpty", it("targets", []string{}), wBad("BelowMinItems", "/links/0/targets")),
		a("TargetsString", it("targets", f.bad.a.ID), wBad("InvalidArray", "/links/0/targets")),
		a("TargetsObject", it("targets", bj{"id": f.bad.a.ID}), wBad("InvalidArray", "/links/0/targets")),
		a("TargetNumber", it("targets", []any{5}), wBad("InvalidString", "/links/0/targets/0")),
		a("TargetMalformed", it("targets", []string{"pos_x"}), wGone("/links/0/targets/0")),
		a("TargetNUL", it("targets", []string{"pos_" + strings.Repeat("a", 31) + "\u0000"}), wGone("/links/0/targets/0")),
		a("TargetUpperCase", it("targets", []string{strings.ToUpper(f.bad.a.ID)}), wGone("/links/0/targets/0")),
		a("TargetUnknown", it("targets", []string{unknownObj}), wGone("/links/0/targets/0")),
		a("TargetLinkID", it("targets", []string{f.live}), wGone("/links/0/targets/0")),
		a("SecondTargetUnknown", it("targets", []string{f.bad.a.ID, unknownObj}), wGone("/links/0/targets/1")),
		a("TargetTwice", it("targets", []string{f.bad.a.ID, f.bad.a.ID}), wBad("ItemNotUnique", "/links/0/targets/1")),
		a("TargetsTenThousand", it("targets", manyTargets), wBad("AboveMaxItems", "/links/0/targets")),
		a("UploadLinkToFile", it("link_type", "upload"), wBad("BadState", "/links/0/targets/0")),
		a("SecondItemTargetsEmpty", bj{"links": []bj{moreItem(f), moreItem(f, "targets", []string{})}}, wBad("BelowMinItems", "/links/1/targets")),
		a("LinkTypeUnknown", it("link_type", "carrier-pigeon"), wBad("NotEnumMember", "/links/0/link_type")),
		a("LinkTypeUpperCase", it("link_type", "DOWNLOAD"), wBad("NotEnumMember", "/links/0/link_type")),
		a("LinkTypeNUL", it("link_type", "download\u0000"), wBad("NotEnumMember", "/links/0/link_type")),
		a("LinkTypeNumber", it("link_type", 1), wBad("InvalidString", "/links/0/link_type")),
		a("AuthsMissing", it("authenticators", nil), wBad("FieldRequired", "/links/0/authenticators")),
		a("AuthsEmpty", it("authenticators", []bj{}), wBad("BelowMinItems", "/links/0/authenticators")),
		a("AuthsObject", it("authenticators", moreEmailAuth("bob@example.com")), wBad("InvalidArray", "/links/0/authenticators")),
		a("AuthString", it("authenticators", []any{"password"}), wBad("InvalidObject", "/links/0/authenticators/0")),
		a("AuthsTooMany", it("authenticators", manyAuths), wBad("AboveMaxItems", "/links/0/authenticators")),
		a("AuthTypeMissing", it("authenticators", []bj{{"auth_context": "bob@example.com"}}), wBad("FieldRequired", "/links/0/authenticators/0/auth_type")),
		a("AuthContextMissing", it("authenticators", []bj{{"auth_type": "email_otp"}}), wBad("FieldRequired", "/links/0/authenticators/0/auth_context")),
		a("AuthTypeNumber", it("authenticators", []bj{{"auth_type": 1, "auth_context": "x"}}), wBad("InvalidString", "/links/0/authenticators/0/auth_type")),
		a("AuthContextNumber", it("authenticators", []bj{{"auth_type": "password", "auth_context": 123456789012345678}}), wBad("InvalidString", "/links/0/authenticators/0/auth_context")),
		a("AuthTypeUnknown", it("authenticators", []bj{{"auth_type": "retina", "auth_context": "x"}}), wBad("NotEnumMember", "/links/0/authenticators/0/auth_type")),
		a("AuthTypeSocial", it("authenticators", []bj{{"auth_type": "social", "auth_context": "x"}}), wBad("NotEnumMember", "/links/0/authenticators/0/auth_type")),
		a("PasswordTooShort", it("authenticators", []bj{morePasswordAuth("short")}), wBad("BelowMinLength", "/links/0/authenticators/0/auth_context")),
		a("PasswordShortBesideOTP", it("authenticators", []bj{moreEmailAuth("bob@example.com"), morePasswordAuth("1234567")}), wBad("BelowMinLength", "/links/0/authenticators/1/auth_context")),
		a("PasswordTooLong", it("authenticators", []bj{morePasswordAuth(strings.Repeat("p", 257))}), wBad("AboveMaxLength", "/links/0/authenticators/0/auth_context")),
		a("EmailNotEmail", it("authenticators", []bj{moreEmailAuth("bob")}), wBad("BadFormatEmail", "/links/0/authenticators/0/auth_context")),
		a("EmailWithNUL", it("authenticators", []bj{moreEmailAuth("bob\u0000@example.com")}), wBad("BadFormatEmail", "/links/0/authenticators/0/auth_context")),
		a("EmailList", it("authenticators", []bj{moreEmailAuth("bob@example.com, eve@example.com")}), wBad("BadFormatEmail", "/links/0/authenticators/0/auth_context")),
		a("EmailDisplayName", it("authenticators", []bj{moreEmailAuth("Bob <bob@example.com>")}), wBad("BadFormatEmail", "/links/0/authenticators/0/auth_context")),
		a("EmailTwice", it("authenticators", []bj{moreEmailAuth("bob@example.com"), moreEmailAuth("BOB@example.com")}), wBad("ItemNotUnique", "/links/0/authenticators/1")),
		a("PhoneNoPlus", it("authenticators", []bj{{"auth_type": "sms_otp", "auth_context": "4155550123"}}), wBad("DoesNotMatchPattern", "/links/0/authenticators/0/auth_context")),
		a("PhoneLetters", it("authenticators", []bj{{"auth_type": "sms_otp", "auth_context": "+1 call me"}}), wBad("DoesNotMatchPattern", "/links/0/authenticators/0/auth_context")),
		a("PhoneLeadingZero", it("authenticators", []bj{{"auth_type": "sms_otp", "auth_context": "+0123456789"}}), wBad("DoesNotMatchPattern", "/links/0/authenticators/0/auth_context")),
		a("PhoneTooLong", it("authenticators", []bj{{"auth_type": "sms_otp", "auth_context": "+1234567890123456"}}), wBad("DoesNotMatchPattern", "/links/0/authenticators/0/auth_context")),
		a("ExpiresNotDate", it("expires_at", "tomorrow"), wBad("BadFormatDateTime", "/links/0/expires_at")),
		a("ExpiresFeb30", it("expires_at", "2031-02-30T00:00:00Z"), wBad("BadFormatDateTime", "/links/0/expires_at")),
		a("ExpiresNoZone", it("expires_at", "2031-01-01T00:00:00"), wBad("BadFormatDateTime", "/links/0/expires_at")),
		a("ExpiresDateOnly", it("expires_at", "2031-01-01"), wBad("BadFormatDateTime", "/links/0/expires_at")),
		a("ExpiresUnix", it("expires_at", "1924992000"), wBad("BadFormatDateTime", "/links/0/expires_at")),
		a("ExpiresNumber", it("expires_at", 1924992000), wBad("InvalidString", "/links/0/expires_at")),
		a("ExpiresBadOffset", it("expires_at", "2031-01-01T00:00:00+99:99"), wBad("BadFormatDateTime", "/links/0/expires_at")),
		a("ExpiresPast", it("expires_at", "2001-01-01T00:00:00Z"), wBad("NotWithinRange", "/links/0/expires_at")),
		a("ExpiresYearOne", it("expires_at", "0001-01-01T00:00:00Z"), wBad("NotWithinRange", "/links/0/expires_at")),
		a("MaxAccessString", it("max_access_count", "5"), wBad("InvalidInteger", "/links/0/max_access_count")),
		a("MaxAccess1e30", it("max_access_count", 1e30), wBad("InvalidInteger", "/links/0/max_access_count")),
		a("MaxAccessFraction", it("max_access_count", 2.5), wBad("InvalidInteger", "/links/0/max_access_count")),
		a("MaxAccessOverflow", `{"links":[{"targets":["`+f.bad.a.ID+`"],"authenticators":[{"auth_type":"email_otp","auth_context":"bob@example.com"}],"max_access_count":99999999999999999999}]}`, wBad("NotWithinRange", "/links/0/max_access_count")),
		a("MaxAccessZero", it("max_access_count", 0), wBad("NotWithinRange", "/links/0/max_access_count")),
		a("MaxAccessNegative", it("max_access_count", -1), wBad("NotWithinRange", "/links/0/max_access_count")),
		a("MaxAccessArray", it("max_access_count", []int{5}), wBad("InvalidInteger", "/links/0/max_access_count")),
		a("MaxDownloadsZero", it("max_downloads", 0), wBad("NotWithinRange", "/links/0/max_downloads")),
		a("MaxDownloadsNegative", it("max_downloads", -5), wBad("NotWithinRange", "/links/0/max_downloads")),
		a("MaxDownloadsBool", it("max_downloads", true), wBad("InvalidInteger", "/links/0/max_downloads")),
		a("TitleHundredKiB", it("title", strings.Repeat("t", 100<<10)), wBad("AboveMaxLength", "/links/0/title")),
		a("TitleOneOver", it("title", strings.Repeat("é", 257)), wBad("AboveMaxLength", "/links/0/title")),
		a("TitleNumber", it("title", 5), wBad("InvalidString", "/links/0/title")),
		a("MessageTooLong", it("message", strings.Repeat("m", 4097)), wBad("AboveMaxLength", "/links/0/message")),
		a("MessageObject", it("message", bj{}), wBad("InvalidString", "/links/0/message")),
		a("TagsString", it("tags", "x"), wBad("InvalidArray", "/links/0/tags")),
		a("TagNumber", it("tags", []any{"ok", 5}), wBad("InvalidString", "/links/0/tags/1")),
		a("TagEmpty", it("tags", []string{"ok", ""}), wBad("BelowMinLength", "/links/0/tags/1")),
		a("TagTooLong", it("tags", []string{strings.Repeat("t", 65)}), wBad("AboveMaxLength", "/links/0/tags/0")),
		a("TagsTooMany", it("tags", manyTags), wBad("AboveMaxItems", "/links/0/tags")),
		a("NotifyEmailBad", it("notify_email", "not-an-email"), wBad("BadFormatEmail", "/links/0/notify_email")),
		a("NotifyEmailNoDot", it("notify_email", "bob@localhost"), wBad("BadFormatEmail", "/links/0/notify_email")),
		a("NotifyEmailNumber", it("notify_email", 5), wBad("InvalidString", "/links/0/notify_email")),
		a("ItemTenantIDNumber", it("tenant_id", 5), wBad("InvalidString", "/links/0/tenant_id")),
		a("SendParamsString", it("send_params", "bob@example.com"), wBad("InvalidObject", "/links/0/send_params")),
		a("SendParamsEmpty", it("send_params", bj{}), wBad("FieldRequired", "/links/0/send_params/recipient_email")),
		a("SendParamsNoSender", it("send_params", sp("sender_email", nil)), wBad("FieldRequired", "/links/0/send_params/sender_email")),
		a("SendParamsBadRecipient", it("send_params", sp("recipient_email", "bob")), wBad("BadFormatEmail", "/links/0/send_params/recipient_email")),
		a("SendParamsBadSender", it("send_params", sp("sender_email", "alice@")), wBad("BadFormatEmail", "/links/0/send_params/sender_email")),
		a("SendParamsSenderNameNumber", it("send_params", sp("sender_name", 5)), wBad("InvalidString", "/links/0/send_params/sender_name")),
		a("SendParamsSenderNameTooLong", it("send_params", sp("sender_name", strings.Repeat("n", 101))), wBad("AboveMaxLength", "/links/0/send_params/sender_name")),
		a("BucketUnknown", bj{"bucket_id": badUnknownBucket, "links": []bj{moreItem(f)}}, wGone("/bucket_id")),
		a("BucketMalformed", bj{"bucket_id": "nope", "links": []bj{moreItem(f)}}, wAnyAt("/bucket_id")),
	)

	add("get",
		a("IDMissing", bj{}, wBad("FieldRequired", "/id")),
		a("IDEmpty", bj{"id": ""}, wBad("FieldRequired", "/id")),
		a("IDNumber", bj{"id": 5}, wBad("InvalidString", "/id")),
		a("IDArray", bj{"id": []string{f.live}}, wBad("InvalidString", "/id")),
		a("IDMalformed", bj{"id": "psl_x"}, wGone("/id")),
		a("IDWithNUL", bj{"id": "psl_" + strings.Repeat("a", 31) + "\u0000"}, wGone("/id")),
		a("IDUpperCase", bj{"id": strings.ToUpper(f.live)}, wGone("/id")),
		a("IDObject", bj{"id": f.bad.a.ID}, wGone("/id")),
		a("IDUnknown", bj{"id": unknownLink}, wGone("/id")),
		a("IDDeleted", bj{"id": f.deleted}, wGone("/id")),
		a("IDLong", bj{"id": "psl_" + strings.Repeat("a", 10000)}, wGone("/id")),
		a("IDs", bj{"ids": []string{f.live}}, wBad("UnexpectedProperty", "/ids")),
	)

	bad := func(js string) string { return moreCursor(js) }
	add("list",
		a("FilterArray", bj{"filter": []any{}}, wBad("InvalidObject", "/filter")),
		a("FilterString", bj{"filter": "id=1"}, wBad("InvalidObject", "/filter")),
		a("FilterUnknown", bj{"filter": bj{"colour": "red"}}, wBad("UnexpectedProperty", "/filter/colour")),
		a("FilterUnknownOperator", bj{"filter": bj{"id__regex": ".*"}}, wBad("UnexpectedProperty", "/filter/id__regex")),
		a("FilterSlashKey", bj{"filter": bj{"a/b": 1}}, wBad("UnexpectedProperty", "/filter/a~1b")),
		a("FilterEmptyKey", bj{"filter": bj{"": "x"}}, wBad("UnexpectedProperty", "/filter/")),
		a("FilterBareOperator", bj{"filter": bj{"__in": []string{"x"}}}, wBad("UnexpectedProperty", "/filter/__in")),
		a("FilterObjectField", bj{"filter": bj{"folder": "/fx"}}, wBad("UnexpectedProperty", "/filter/folder")),
		a("FilterNestedObject", bj{"filter": bj{"id": bj{"eq": f.live}}}, wBad("InvalidString", "/filter/id")),
		a("FilterIDArray", bj{"filter": bj{"id": []string{f.live}}}, wBad("InvalidString", "/filter/id")),
		a("FilterIDInObject", bj{"filter": bj{"id__in": bj{}}}, wBad("InvalidArray", "/filter/id__in")),
		a("FilterTitleContainsNumber", bj{"filter": bj{"title__contains": 5}}, wBad("InvalidArray", "/filter/title__contains")),
		a("FilterTitleGreater", bj{"filter": bj{"title__gt": "a"}}, wBad("UnexpectedProperty", "/filter/title__gt")),
		a("FilterLinkTypeNumber", bj{"filter": bj{"link_type": 1}}, wBad("InvalidString", "/filter/link_type")),
		a("FilterAccessWord", bj{"filter": bj{"access_count": "many"}}, wBad("InvalidInteger", "/filter/access_count")),
		a("FilterAccessFraction", bj{"filter": bj{"access_count__gt": 1.5}}, wBad("InvalidInteger", "/filter/access_count__gt")),
		a("FilterAccess1e30", bj{"filter": bj{"max_access_count__lt": 1e30}}, wBad("InvalidInteger", "/filter/max_access_count__lt")),
		a("FilterAccessIn", bj{"filter": bj{"access_count__in": []int{1}}}, wBad("UnexpectedProperty", "/filter/access_count__in")),
		a("FilterAccessBool", bj{"filter": bj{"access_count": true}}, wBad("InvalidInteger", "/filter/access_count")),
		a("FilterCreatedNotDate", bj{"filter": bj{"created_at": "yesterday"}}, wBad("BadFormatDateTime", "/filter/created_at")),
		a("FilterExpiresNumber", bj{"filter": bj{"expires_at__lt": 5}}, wBad("BadFormatDateTime", "/filter/expires_at__lt")),
		a("FilterCreatedFeb30", bj{"filter": bj{"created_at__gt": "2025-02-30T00:00:00Z"}}, wBad("BadFormatDateTime", "/filter/created_at__gt")),
		a("FilterAccessedIn", bj{"filter": bj{"last_accessed_at__in": []string{}}}, wBad("UnexpectedProperty", "/filter/last_accessed_at__in")),
		a("FilterTagsNumber", bj{"filter": bj{"tags": 5}}, wBad("InvalidArray", "/filter/tags")),
		a("FilterTagsNumbers", bj{"filter": bj{"tags": []int{1}}}, wBad("InvalidArray", "/filter/tags")),
		a("FilterTagsContains", bj{"filter": bj{"tags__contains": []string{"a"}}}, wBad("UnexpectedProperty", "/filter/tags__contains")),
		a("FilterLinkContains", bj{"filter": bj{"link__contains": "abc"}}, wBad("UnexpectedProperty", "/filter/link__contains")),
		a("FilterTargetAliasNumber", bj{"filter": bj{"target": 5}}, wBad("InvalidString", "/filter/target")),
		a("FilterPoolAliasNumber", bj{"filter": bj{"storage_pool_id": []int{}}}, wBad("InvalidString", "/filter/storage_pool_id")),
		a("OrderUnknown", bj{"order": "sideways"}, wBad("NotEnumMember", "/order")),
		a("OrderUpperCase", bj{"order": "DESC"}, wBad("NotEnumMember", "/order")),
		a("OrderNumber", bj{"order": -1}, wBad("InvalidString", "/order")),
		a("OrderByUnknown", bj{"order_by": "colour"}, wBad("NotEnumMember", "/order_by")),
		a("OrderByArray", bj{"order_by": []string{"id"}}, wBad("InvalidString", "/order_by")),
		a("OrderByNUL", bj{"order_by": "id\u0000"}, wBad("NotEnumMember", "/order_by")),
		a("SizeString", bj{"size": "10"}, wBad("InvalidInteger", "/size")),
		a("SizeZero", bj{"size": 0}, wBad("NotWithinRange", "/size")),
		a("SizeNegative", bj{"size": -1}, wBad("NotWithinRange", "/size")),
		a("SizeTooBig", bj{"size": 1001}, wBad("NotWithinRange", "/size")),
		a("SizeHuge", bj{"size": int64(1) << 40}, wBad("NotWithinRange", "/size")),
		a("Size1e30", `{"size":1e30}`, wBad("InvalidInteger", "/size")),
		a("SizeOverflow", `{"size":99999999999999999999}`, wBad("NotWithinRange", "/size")),
		a("SizeFraction", bj{"size": 1.5}, wBad("InvalidInteger", "/size")),
		a("SizeBool", bj{"size": true}, wBad("InvalidInteger", "/size")),
		a("LastNotBase64", bj{"last": "!!!"}, wBad("BadFormat", "/last")),
		a("LastPadded", bj{"last": base64.URLEncoding.EncodeToString([]byte(`{"o":"created_at","i":"x"}`))}, wBad("BadFormat", "/last")),
		a("LastEmptyObject", bj{"last": bad(`{}`)}, wBad("BadFormat", "/last")),
		a("LastArray", bj{"last": bad(`[]`)}, wBad("BadFormat", "/last")),
		a("LastNotJSON", bj{"last": bad(`hello`)}, wBad("BadFormat", "/last")),
		a("LastNumber", bj{"last": 5}, wBad("InvalidString", "/last")),
		a("LastObject", bj{"last": bj{"i": "x"}}, wBad("InvalidString", "/last")),
		a("LastOtherOrder", bj{"last": f.linkCursor, "order": "desc"}, wBad("BadState", "/last")),
		a("LastOtherOrderBy", bj{"last": f.linkCursor, "order_by": "title"}, wBad("BadState", "/last")),
		a("LastNumericGarbage", bj{"last": bad(`{"o":"access_count","v":"lots","i":"psl_x"}`), "order_by": "access_count"}, wBad("BadFormat", "/last")),
		a("LastObjectCursor", bj{"last": bad(`{"o":"name","v":"a","i":"pos_x"}`)}, wBad("BadState", "/last")),
		a("Limit", bj{"limit": 5}, wBad("UnexpectedProperty", "/limit")),
		a("Filters", bj{"filters": bj{}}, wBad("UnexpectedProperty", "/filters")),
		// As on the object endpoints: a bucket_id that cannot be one is a
		// 400, one that does not exist a 404; neither lists nothing.
		a("BucketMalformed", bj{"bucket_id": "nope"}, wBad("DoesNotMatchPattern", "/bucket_id")),
		a("BucketUnknown", bj{"bucket_id": badUnknownBucket}, wGone("/bucket_id")),
	)

	upd := func(kv ...any) bj {
		m := bj{"id": f.live}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	add("update",
		a("IDMissing", upd("id", nil, "title", "x"), wBad("FieldRequired", "/id")),
		a("IDEmpty", upd("id", ""), wBad("FieldRequired", "/id")),
		a("IDNumber", upd("id", 5), wBad("InvalidString", "/id")),
		a("IDMalformed", upd("id", "psl_x"), wGone("/id")),
		a("IDObject", upd("id", f.bad.a.ID), wGone("/id")),
		a("IDUnknown", upd("id", unknownLink, "title", "x"), wGone("/id")),
		a("IDDeleted", upd("id", f.deleted, "title", "x"), wGone("/id")),
		a("UnknownNested", upd("authenticators", []bj{{"auth_type": "email_otp", "auth_context": "bob@example.com", "colour": "red"}}), wBad("UnexpectedProperty", "/authenticators/0/colour")),
		a("LinkTypeNotUpdatable", upd("link_type", "editor"), wBad("UnexpectedProperty", "/link_type")),
		a("SendParamsNotUpdatable", upd("send_params", bj{}), wBad("UnexpectedProperty", "/send_params")),
		a("TargetsEmpty", upd("targets", []string{}), wBad("BelowMinItems", "/targets")),
		a("TargetsString", upd("targets", f.bad.a.ID), wBad("InvalidArray", "/targets")),
		a("TargetMalformed", upd("targets", []string{"pos_x"}), wGone("/targets/0")),
		a("TargetUnknown", upd("targets", []string{unknownObj}), wGone("/targets/0")),
		a("TargetsTenThousand", upd("targets", manyTargets), wBad("AboveMaxItems", "/targets")),
		a("AddTargetMalformed", upd("add_targets", []string{f.bad.b.ID, "pos_x"}), wGone("/add_targets/1")),
		a("AddTargetUnknown", upd("add_targets", []string{unknownObj}), wGone("/add_targets/0")),
		a("AddTargetsTenThousand", upd("add_targets", manyTargets), wBad("AboveMaxItems", "/add_targets")),
		a("AddTargetsObject", upd("add_targets", bj{}), wBad("InvalidArray", "/add_targets")),
		a("RemoveTargetsNumber", upd("remove_targets", []any{5}), wBad("InvalidString", "/remove_targets/0")),
		a("RemoveTargetsString", upd("remove_targets", f.bad.a.ID), wBad("InvalidArray", "/remove_targets")),
		a("RemoveEveryTarget", upd("remove_targets", []string{f.bad.a.ID}), wBad("BelowMinItems", "/remove_targets")),
		a("ExpiresEmpty", upd("expires_at", ""), wBad("BadFormatDateTime", "/expires_at")),
		a("ExpiresNotDate", upd("expires_at", "next tuesday"), wBad("BadFormatDateTime", "/expires_at")),
		a("ExpiresNumber", upd("expires_at", 0), wBad("InvalidString", "/expires_at")),
		a("ExpiresPast", upd("expires_at", "1999-12-31T23:59:59Z"), wBad("NotWithinRange", "/expires_at")),
		a("MaxAccessZero", upd("max_access_count", 0), wBad("NotWithinRange", "/max_access_count")),
		a("MaxAccessNegative", upd("max_access_count", -7), wBad("NotWithinRange", "/max_access_count")),
		a("MaxAccessString", upd("max_access_count", "3"), wBad("InvalidInteger", "/max_access_count")),
		a("MaxAccess1e30", upd("max_access_count", 1e30), wBad("InvalidInteger", "/max_access_count")),
		a("MaxDownloadsNegative", upd("max_downloads", -1), wBad("NotWithinRange", "/max_downloads")),
		a("MaxDownloadsString", upd("max_downloads", "5"), wBad("InvalidInteger", "/max_downloads")),
		a("MaxDownloadsFraction", upd("max_downloads", 1.5), wBad("InvalidInteger", "/max_downloads")),
		a("MaxDownloads1e30", upd("max_downloads", 1e30), wBad("InvalidInteger", "/max_downloads")),
		a("MaxDownloadsArray", upd("max_downloads", []int{1}), wBad("InvalidInteger", "/max_downloads")),
		a("MaxDownloadsObject", upd("max_downloads", bj{}), wBad("InvalidInteger", "/max_downloads")),
		a("TitleHundredKiB", upd("title", strings.Repeat("t", 100<<10)), wBad("AboveMaxLength", "/title")),
		a("TitleArray", upd("title", []string{"x"}), wBad("InvalidString", "/title")),
		a("MessageTooLong", upd("message", strings.Repeat("m", 4097)), wBad("AboveMaxLength", "/message")),
		a("TagsString", upd("tags", "x"), wBad("InvalidArray", "/tags")),
		a("TagEmpty", upd("tags", []string{""}), wBad("BelowMinLength", "/tags/0")),
		a("TagsTooMany", upd("tags", manyTags), wBad("AboveMaxItems", "/tags")),
		a("AuthsEmpty", upd("authenticators", []bj{}), wBad("BelowMinItems", "/authenticators")),
		a("AuthsObject", upd("authenticators", bj{}), wBad("InvalidArray", "/authenticators")),
		a("AuthContextMissing", upd("authenticators", []bj{{"auth_type": "password"}}), wBad("FieldRequired", "/authenticators/0/auth_context")),
		a("AuthTypeUnknown", upd("authenticators", []bj{{"auth_type": "fingerprint", "auth_context": "x"}}), wBad("NotEnumMember", "/authenticators/0/auth_type")),
		a("PasswordTooShort", upd("authenticators", []bj{morePasswordAuth("hunter2")}), wBad("BelowMinLength", "/authenticators/0/auth_context")),
		a("PhoneGarbage", upd("authenticators", []bj{{"auth_type": "sms_otp", "auth_context": "+1-NOT-A-PHONE"}}), wBad("DoesNotMatchPattern", "/authenticators/0/auth_context")),
	)

	twoLive := []string{f.live, f.live2}
	manyLinkIDs := make([]string, 10000)
	for i := range manyLinkIDs {
		manyLinkIDs[i] = unknownLink
	}
	add("delete",
		a("IDsMissing", bj{}, wBad("FieldRequired", "/ids")),
		a("IDsNull", `{"ids":null}`, wBad("FieldRequired", "/ids")),
		a("IDsEmpty", bj{"ids": []string{}}, wBad("BelowMinItems", "/ids")),
		a("IDsString", bj{"ids": f.live}, wBad("InvalidArray", "/ids")),
		a("IDsObject", bj{"ids": bj{"0": f.live}}, wBad("InvalidArray", "/ids")),
		a("IDNumber", bj{"ids": []any{5}}, wBad("InvalidString", "/ids/0")),
		a("IDSingular", bj{"id": f.live}, wBad("UnexpectedProperty", "/id")),
		a("IDMalformed", bj{"ids": []string{"psl_x"}}, wGone("/ids/0")),
		a("IDObject", bj{"ids": []string{f.bad.a.ID}}, wGone("/ids/0")),
		a("IDUnknown", bj{"ids": []string{unknownLink}}, wGone("/ids/0")),
		a("IDDeleted", bj{"ids": []string{f.deleted}}, wGone("/ids/0")),
		a("SecondUnknown", bj{"ids": []string{f.live, unknownLink}}, wGone("/ids/1")),
		a("ThirdUnknownAfterRepeat", bj{"ids": []string{f.live, f.live, unknownLink}}, wGone("/ids/2")),
		a("ThirdMalformed", bj{"ids": append(slices.Clone(twoLive), "psl_\u0000")}, wGone("/ids/2")),
		a("IDsTooMany", bj{"ids": manyLinkIDs[:101]}, wBad("AboveMaxItems", "/ids")),
		a("IDsTenThousand", bj{"ids": manyLinkIDs}, wBad("AboveMaxItems", "/ids")),
	)

	sl := func(kv ...any) bj {
		m := bj{"links": []bj{{"id": f.live, "email": "bob@example.com"}}, "sender_email": "alice@example.com"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	manySends := make([]bj, 101)
	for i := range manySends {
		manySends[i] = bj{"id": f.live, "email": fmt.Sprintf("r%d@example.com", i)}
	}
	add("send",
		a("LinksMissing", sl("links", nil), wBad("FieldRequired", "/links")),
		a("SenderMissing", sl("sender_email", nil), wBad("FieldRequired", "/sender_email")),
		a("LinksEmpty", sl("links", []bj{}), wBad("BelowMinItems", "/links")),
		a("LinksObject", sl("links", bj{"id": f.live, "email": "bob@example.com"}), wBad("InvalidArray", "/links")),
		a("LinkItemString", sl("links", []any{f.live}), wBad("InvalidObject", "/links/0")),
		a("LinksTooMany", sl("links", manySends), wBad("AboveMaxItems", "/links")),
		a("ItemUnknownField", sl("links", []bj{{"id": f.live, "email": "bob@example.com", "cc": "eve@example.com"}}), wBad("UnexpectedProperty", "/links/0/cc")),
		a("ItemIDMissing", sl("links", []bj{{"email": "bob@example.com"}}), wBad("FieldRequired", "/links/0/id")),
		a("ItemEmailMissing", sl("links", []bj{{"id": f.live}}), wBad("FieldRequired", "/links/0/email")),
		a("ItemIDNumber", sl("links", []bj{{"id": 5, "email": "bob@example.com"}}), wBad("InvalidString", "/links/0/id")),
		a("ItemIDMalformed", sl("links", []bj{{"id": "psl_x", "email": "bob@example.com"}}), wGone("/links/0/id")),
		a("ItemIDUnknown", sl("links", []bj{{"id": unknownLink, "email": "bob@example.com"}}), wGone("/links/0/id")),
		a("ItemIDDeleted", sl("links", []bj{{"id": f.deleted, "email": "bob@example.com"}}), wGone("/links/0/id")),
		a("SecondItemIDUnknown", sl("links", []bj{{"id": f.live, "email": "bob@example.com"}, {"id": unknownLink, "email": "bob@example.com"}}), wGone("/links/1/id")),
		a("ItemEmailBad", sl("links", []bj{{"id": f.live, "email": "bob"}}), wBad("BadFormatEmail", "/links/0/email")),
		a("ItemEmailNUL", sl("links", []bj{{"id": f.live, "email": "bob@example.com\u0000"}}), wBad("BadFormatEmail", "/links/0/email")),
		a("ItemEmailHeaderInjection", sl("links", []bj{{"id": f.live, "email": "bob@example.com\r\nBcc: eve@example.com"}}), wBad("BadFormatEmail", "/links/0/email")),
		a("ItemEmailTooLong", sl("links", []bj{{"id": f.live, "email": strings.Repeat("b", 250) + "@example.com"}}), wBad("BadFormatEmail", "/links/0/email")),
		a("ItemEmailArray", sl("links", []bj{{"id": f.live, "email": []string{"bob@example.com"}}}), wBad("InvalidString", "/links/0/email")),
		a("SenderBad", sl("sender_email", "alice at example.com"), wBad("BadFormatEmail", "/sender_email")),
		a("SenderNumber", sl("sender_email", 5), wBad("InvalidString", "/sender_email")),
		a("SenderNameTooLong", sl("sender_name", strings.Repeat("n", 101)), wBad("AboveMaxLength", "/sender_name")),
		a("SenderNameObject", sl("sender_name", bj{}), wBad("InvalidString", "/sender_name")),
	)
	for i := range cs {
		cs[i].name = strings.TrimPrefix(ver, "/") + "/" + cs[i].name
	}
	return cs
}

// moreListCases are audit/list and notifications/list.
func moreListCases(f moreFixtures, ver string) []moreCase {
	var cs []moreCase
	for _, ep := range []string{"audit/list", "notifications/list"} {
		path := ver + "/" + ep
		a := func(name string, body any, w badWant) moreCase {
			return moreCase{name: strings.TrimPrefix(ver, "/") + "/" + ep + "/" + name, req: badReq{path: path, body: body}, want: w}
		}
		timeField := "time"
		if ep == "notifications/list" {
			timeField = "created_at"
		}
		cs = append(cs,
			a("NotJSON", "{nope", wPayload()),
			a("Array", "[{}]", wBad("InvalidObject", "/")),
			a("InvalidUTF8", []byte("{\"order\":\"\xc3\x28\"}"), wPayload()),
			a("UnknownField", bj{"colour": "red"}, wBad("UnexpectedProperty", "/colour")),
			a("OrderBy", bj{"order_by": "created_at"}, wBad("UnexpectedProperty", "/order_by")),
			a("BucketID", bj{"bucket_id": f.bad.bucket}, wBad("UnexpectedProperty", "/bucket_id")),
			a("FilterArray", bj{"filter": []string{"x"}}, wBad("InvalidObject", "/filter")),
			a("FilterUnknown", bj{"filter": bj{"recipient": "bob@example.com"}}, wBad("UnexpectedProperty", "/filter/recipient")),
			a("FilterLinkIDNumber", bj{"filter": bj{"link_id": 5}}, wBad("InvalidString", "/filter/link_id")),
			a("FilterLinkIDNested", bj{"filter": bj{"link_id": bj{"in": []string{f.live}}}}, wBad("InvalidString", "/filter/link_id")),
			a("FilterLinkIDInNumber", bj{"filter": bj{"link_id__in": 5}}, wBad("InvalidArray", "/filter/link_id__in")),
			a("FilterLinkIDGreater", bj{"filter": bj{"link_id__gt": "psl_"}}, wBad("UnexpectedProperty", "/filter/link_id__gt")),
			a("FilterTimeNotDate", bj{"filter": bj{timeField: "noon"}}, wBad("BadFormatDateTime", "/filter/"+timeField)),
			a("FilterTimeNumber", bj{"filter": bj{timeField + "__gte": 1700000000}}, wBad("BadFormatDateTime", "/filter/"+timeField+"__gte")),
			a("FilterTimeContains", bj{"filter": bj{timeField + "__contains": "2025"}}, wBad("UnexpectedProperty", "/filter/"+timeField+"__contains")),
			a("FilterTags", bj{"filter": bj{"tags": []string{"x"}}}, wBad("UnexpectedProperty", "/filter/tags")),
			a("OrderUnknown", bj{"order": "newest"}, wBad("NotEnumMember", "/order")),
			a("OrderNumber", bj{"order": 1}, wBad("InvalidString", "/order")),
			a("SizeString", bj{"size": "50"}, wBad("InvalidInteger", "/size")),
			a("SizeZero", bj{"size": 0}, wBad("NotWithinRange", "/size")),
			a("SizeNegative", bj{"size": -50}, wBad("NotWithinRange", "/size")),
			a("SizeTooBig", bj{"size": 100000}, wBad("NotWithinRange", "/size")),
			a("Size1e30", `{"size":1e30}`, wBad("InvalidInteger", "/size")),
			a("SizeOverflow", `{"size":-99999999999999999999}`, wBad("NotWithinRange", "/size")),
			a("LastNotBase64", bj{"last": "%%%"}, wBad("BadFormat", "/last")),
			a("LastNoID", bj{"last": moreCursor(`{"o":"id","d":true,"v":"1"}`)}, wBad("BadFormat", "/last")),
			a("LastNumber", bj{"last": 12}, wBad("InvalidString", "/last")),
			a("LastArray", bj{"last": []string{"x"}}, wBad("InvalidString", "/last")),
		)
		if ep == "audit/list" {
			cs = append(cs,
				a("FilterCreatedAt", bj{"filter": bj{"created_at": "2025-01-01T00:00:00Z"}}, wBad("UnexpectedProperty", "/filter/created_at")),
				a("LastIDNotNumber", bj{"last": moreCursor(`{"o":"id","d":true,"i":"abc"}`)}, wBad("BadFormat", "/last")),
				a("LastOtherOrder", bj{"last": f.auditCurse, "order": "asc"}, wBad("BadState", "/last")),
				a("LastOtherListing", bj{"last": f.linkCursor}, wBad("BadState", "/last")),
			)
		} else {
			cs = append(cs,
				a("FilterTime", bj{"filter": bj{"time": "2025-01-01T00:00:00Z"}}, wBad("UnexpectedProperty", "/filter/time")),
				a("LastOtherListing", bj{"last": f.auditCurse}, wBad("BadState", "/last")),
				a("LastOtherOrder", bj{"last": moreCursor(`{"o":"created_at","i":"x"}`)}, wBad("BadState", "/last")),
			)
		}
		cs = append(cs,
			moreCase{name: strings.TrimPrefix(ver, "/") + "/" + ep + "/LinksToken", req: badReq{path: path, body: bj{}, auth: "Bearer " + f.bad.linksOnly}, want: wForbidden(sesame.ScopeAuditRead)},
			moreCase{name: strings.TrimPrefix(ver, "/") + "/" + ep + "/RevokedToken", req: badReq{path: path, body: bj{}, auth: "Bearer " + f.bad.revoked}, want: wUnauthorized()},
			moreCase{name: strings.TrimPrefix(ver, "/") + "/" + ep + "/NoToken", req: badReq{path: path, body: bj{}, auth: badNoAuth}, want: wUnauthorized()},
		)
	}
	return cs
}

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

// moreMCPCases send garbage to /mcp.
func moreMCPCases(f moreFixtures) []moreCase {
	accept := map[string]string{"Accept": "application/json, text/event-stream"}
	with := func(h map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range accept {
			m[k] = v
		}
		for k, v := range h {
			m[k] = v
		}
		return m
	}
	garbage := func(name string, body any, h ...map[string]string) moreCase {
		hdr := accept
		if len(h) > 0 {
			hdr = with(h[0])
		}
		return moreCase{name: "mcp/garbage/" + name, req: badReq{path: "/mcp", body: body, ctype: "application/json", header: hdr}, kind: morePage}
	}
	rpc := func(method string, params any) string {
		b, _ := json.Marshal(bj{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
		return string(b)
	}
	call := func(name string, args any) string { return rpc("tools/call", bj{"name": name, "arguments": args}) }
	wrong := func(name, body string) moreCase {
		return moreCase{name: "mcp/wrong/" + name, req: badReq{path: "/mcp", body: body, ctype: "application/json", header: accept}, kind: moreAny}
	}
	noAuth := func(name, method string, body any) moreCase {
		return moreCase{name: "mcp/auth/" + name, req: badReq{method: method, path: "/mcp", body: body, auth: badNoAuth, header: accept}, want: wUnauthorized()}
	}
	manyTargets := make([]string, 10000)
	for i := range manyTargets {
		manyTargets[i] = "/nope/" + fmt.Sprint(i)
	}
	return []moreCase{
		noAuth("POST", http.MethodPost, call("object_list", bj{})),
		noAuth("POSTGarbage", http.MethodPost, "{nope"),
		noAuth("GET", http.MethodGet, nil),
		noAuth("DELETE", http.MethodDelete, nil),
		{name: "mcp/auth/GarbageToken", req: badReq{path: "/mcp", body: call("object_list", bj{}), auth: "Bearer nope", header: accept}, want: wUnauthorized()},
		{name: "mcp/auth/RevokedToken", req: badReq{path: "/mcp", body: call("object_list", bj{}), auth: "Bearer " + f.bad.revoked, header: accept}, want: wUnauthorized()},
		{name: "mcp/auth/CrossSite", req: badReq{path: "/mcp", body: call("object_list", bj{}), header: with(map[string]string{"Sec-Fetch-Site": "cross-site"})}, want: badWant{http: http.StatusForbidden}},
		garbage("NotJSON", "{nope"),
		garbage("Empty", ""),
		garbage("Whitespace", " \n\t "),
		garbage("EmptyBatch", "[]"),
		garbage("Null", "null"),
		garbage("Number", "42"),
		garbage("String", `"tools/list"`),
		garbage("EmptyObject", "{}"),
		garbage("VersionOnly", `{"jsonrpc":"2.0"}`),
		garbage("WrongVersion", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`),
		garbage("NoVersion", `{"id":1,"method":"tools/list"}`),
		// A response to a call the server never made: the transport spec
		// answers any response with 202.
		{name: "mcp/garbage/ResultWithoutCall", req: badReq{path: "/mcp", body: `{"jsonrpc":"2.0","id":1,"result":{}}`, ctype: "application/json", header: accept},
			kind: morePage, codes: []int{http.StatusAccepted, http.StatusBadRequest}},
		garbage("IDOnly", `{"jsonrpc":"2.0","id":1}`),
		garbage("MethodNumber", `{"jsonrpc":"2.0","id":1,"method":5}`),
		garbage("UnknownMethod", rpc("files/steal", bj{})),
		garbage("MethodNUL", rpc("tools/list\u0000", bj{})),
		garbage("IDObject", `{"jsonrpc":"2.0","id":{},"method":"tools/list"}`),
		garbage("IDArray", `{"jsonrpc":"2.0","id":[1],"method":"tools/list"}`),
		garbage("InvalidUTF8", []byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/\xff\"}")),
		garbage("RawNUL", []byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\x00\"}")),
		garbage("TooDeep", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`),
		garbage("OverFourMiB", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"`+strings.Repeat("x", 4<<20)+`"}}`),
		garbage("TextPlain", rpc("tools/list", bj{}), map[string]string{"Content-Type": "text/plain"}),
		garbage("FormEncoded", "jsonrpc=2.0&method=tools/list", map[string]string{"Content-Type": moreFormCT}),
		garbage("BadProtocolVersion", rpc("tools/list", bj{}), map[string]string{"Mcp-Protocol-Version": "1999-01-01"}),
		garbage("BatchNewProtocol", "["+rpc("tools/list", bj{})+"]", map[string]string{"Mcp-Protocol-Version": "2025-06-18"}),
		garbage("LastEventID", rpc("tools/list", bj{}), map[string]string{"Last-Event-ID": "garbage"}),
		{name: "mcp/garbage/NoAccept", req: badReq{path: "/mcp", body: rpc("tools/list", bj{}), ctype: "application/json"}, kind: morePage},
		{name: "mcp/garbage/GETWithToken", req: badReq{method: http.MethodGet, path: "/mcp", header: accept}, kind: morePage},
		{name: "mcp/garbage/DELETEWithToken", req: badReq{method: http.MethodDelete, path: "/mcp", header: with(map[string]string{"Mcp-Session-Id": "nope"})}, kind: morePage},
		{name: "mcp/garbage/PUT", req: badReq{method: http.MethodPut, path: "/mcp", body: rpc("tools/list", bj{}), ctype: "application/json", header: accept}, kind: morePage},
		// Well-formed calls with params of the wrong shape: JSON-RPC answers
		// -32602 in a 200.
		wrong("ParamsString", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"object_list"}`),
		wrong("ParamsArray", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1,2]}`),
		wrong("UnknownTool", call("rm_rf", bj{})),
		wrong("ArgumentsString", call("object_list", "folder=/")),
		wrong("ObjectListSizeString", call("object_list", bj{"size": "10"})),
		wrong("ObjectListSizeHuge", call("object_list", bj{"size": 1e30})),
		wrong("ObjectListSizeNegative", call("object_list", bj{"size": -1})),
		wrong("ObjectListFolderDotDot", call("object_list", bj{"folder": "/fx/../.."})),
		wrong("ObjectListCursorGarbage", call("object_list", bj{"cursor": "!!!"})),
		wrong("ObjectListUnknownArg", call("object_list", bj{"colour": "red"})),
		wrong("FolderCreateNUL", call("folder_create", bj{"path": "/a\u0000b"})),
		wrong("FolderCreateKeyTooLong", call("folder_create", bj{"path": "/mcp-never", "idempotency_key": strings.Repeat("k", 300)})),
		wrong("LinkCreateTargetsString", call("share_link_create", bj{"targets": "/fx/a.txt", "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}})),
		wrong("LinkCreateEmptyTarget", call("share_link_create", bj{"targets": []string{""}, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}})),
		wrong("LinkCreateRootTarget", call("share_link_create", bj{"targets": []string{"/"}, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}})),
		wrong("LinkCreateTenThousandTargets", call("share_link_create", bj{"targets": manyTargets, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}})),
		wrong("LinkCreateNoAuthenticators", call("share_link_create", bj{"targets": []string{f.bad.a.ID}})),
		wrong("LinkCreateAuthUnknown", call("share_link_create", bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{{"type": "retina", "value": "x"}}})),
		wrong("LinkCreateExpiresGarbage", call("share_link_create", bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}, "expires_in": "forever"})),
		wrong("LinkCreateExpiresOverflow", call("share_link_create", bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}, "expires_in": "99999999999999h"})),
		wrong("LinkCreateMaxAccessNegative", call("share_link_create", bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}, "max_access_count": -5})),
		wrong("LinkCreateTitleHundredKiB", call("share_link_create", bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{{"type": "email_otp", "value": "bob@example.com"}}, "title": strings.Repeat("t", 100<<10)})),
		wrong("LinkGetIDNumber", call("share_link_get", bj{"id": 5})),
		wrong("LinkGetIDGarbage", call("share_link_get", bj{"id": "'; DROP TABLE links; --"})),
		wrong("LinkRevokeUnknown", call("share_link_revoke", bj{"id": badUnknownLink})),
		wrong("LinkListCursorGarbage", call("share_link_list", bj{"cursor": moreCursor(`{"o":"title","i":"x"}`)})),
		wrong("LinkListSizeHuge", call("share_link_list", bj{"size": 1000000})),
		wrong("LinkSendBadRecipient", call("share_link_send", bj{"link_id": f.live, "recipients": []string{"bob"}, "sender_email": "alice@example.com"})),
		wrong("LinkSendRecipientsString", call("share_link_send", bj{"link_id": f.live, "recipients": "bob@example.com", "sender_email": "alice@example.com"})),
		wrong("LinkSendUnknownLink", call("share_link_send", bj{"link_id": badUnknownLink, "recipients": []string{"bob@example.com"}, "sender_email": "alice@example.com", "confirm": true})),
		wrong("InitializeGarbageParams", rpc("initialize", bj{"protocolVersion": 5, "capabilities": "all"})),
	}
}

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
		{http.MethodGet, "/v/" + validID}, {http.MethodGet, "/th/" + validID}, {http.MethodGet, "/zip"}, {http.MethodPost, "/zip"},
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
		for _, rt := range []string{"d", "f", "v", "th"} {
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
	page("zip/NothingSelected", p.dlV, form(dlZip, "csrf", p.dlV.csrf), http.StatusBadRequest)
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
	page("browse/done/Garbage", p.dlV, get(p.dl+"?done=%3Cscript%3Ealert(1)%3C/script%3E"), http.StatusOK)
	return cs
}

func TestBadInputMore(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	f := moreNewFixtures(t, env)
	portal := moreNewPortal(t, env)

	var cases []moreCase
	for _, ver := range []string{"/v1", "/v1beta"} {
		cases = append(cases, moreLinkCases(t, f, ver)...)
		cases = append(cases, moreListCases(f, ver)...)
		cases = append(cases, moreIdemCases(t, env, f, ver)...)
	}
	cases = append(cases, moreRequestCases(f)...)
	cases = append(cases, moreMCPCases(f)...)
	cases = append(cases, morePortalCases(t, f, portal)...)

	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
	}

	// What must survive every case.
	countLinks := func() int {
		r := env.post("/v1/share/link/list", bj{})
		mustOK(t, r)
		var res struct {
			Count int `json:"count"`
		}
		r.Into(t, &res)
		return res.Count
	}
	children := func(folder string) []string {
		r := env.post("/v1/list", bj{"filter": bj{"folder": folder}, "order_by": "name"})
		mustOK(t, r)
		var res struct {
			Objects []object `json:"objects"`
		}
		r.Into(t, &res)
		var names []string
		for _, o := range res.Objects {
			names = append(names, o.Name+"@"+o.UpdatedAt)
		}
		return names
	}
	links := countLinks()
	live := env.post("/v1/share/link/get", bj{"id": f.live})
	mustOK(t, live)
	folders := map[string][]string{}
	for _, folder := range []string{"/fx", "/pt", "/pt/dl", "/pt/ed", "/pt/ed/sub", "/pt/up"} {
		folders[folder] = children(folder)
	}

	t.Logf("%d cases", len(cases))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *reply
			if tc.kind == moreAPI {
				r = env.badSend(t, tc.req)
			} else {
				r = env.moreSend(t, tc.req, tc.who)
			}
			moreCheck(t, tc, r, portal.dead)
		})
	}

	t.Run("after/LinksUnchanged", func(t *testing.T) {
		if got := countLinks(); got != links {
			t.Errorf("the bad requests changed the number of links from %d to %d", links, got)
		}
		r := env.post("/v1/share/link/get", bj{"id": f.live})
		mustOK(t, r)
		var before, after struct {
			Link struct {
				Title     string   `json:"title"`
				ExpiresAt string   `json:"expires_at"`
				MaxAccess int      `json:"max_access_count"`
				Targets   []string `json:"targets"`
			} `json:"share_link_object"`
		}
		live.Into(t, &before)
		r.Into(t, &after)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("the bad requests changed link %s: %+v, now %+v", f.live, before, after)
		}
	})
	t.Run("after/ObjectsUnchanged", func(t *testing.T) {
		for folder, want := range folders {
			if got := children(folder); !slices.Equal(got, want) {
				t.Errorf("the bad requests changed %s: %v, now %v", folder, want, got)
			}
		}
	})
	t.Run("after/SessionsAlive", func(t *testing.T) {
		for _, c := range []struct {
			base, folder string
			v            *moreVisitor
		}{{portal.dl, portal.dlFolder.ID, portal.dlV}, {portal.ed, portal.edFolder.ID, portal.edV}, {portal.up, portal.upFolder.ID, portal.upV}} {
			r := env.moreSend(t, badReq{method: http.MethodGet, path: c.base + "/d/" + c.folder, auth: badNoAuth}, c.v)
			if r.Code != http.StatusOK {
				t.Errorf("%s: the session did not survive the bad requests: got %d to %q", c.base, r.Code, r.Header.Get("Location"))
			}
		}
	})
}
