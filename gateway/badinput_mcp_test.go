package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Bad input to the MCP endpoint at /mcp.

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
