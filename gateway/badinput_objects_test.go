package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
)

// Bad input to the object endpoints: /v1 and /v1beta buckets,
// folder/create, put (and its post-url and put-url transfers), get,
// get_archive, list, update and delete.

var badEndpoints = []string{"buckets", "folder/create", "put", "get", "get_archive", "list", "update", "delete"}

var badWriteEndpoints = map[string]bool{"folder/create": true, "put": true, "update": true, "delete": true}

// badGenericCases apply to every object endpoint: bodies that are not a JSON
// object, oversized bodies, unknown or mistyped common fields, and auth.
func badGenericCases(t *testing.T, f badFixtures, ver, ep string) []badCase {
	t.Helper()
	path := ver + "/" + ep
	deep := `{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	huge := `{"name":"` + strings.Repeat("a", badMaxJSON+64) + `"}`
	cs := []badCase{
		{"NotJSON", badReq{path: path, body: "{nope"}, wPayload()},
		{"Array", badReq{path: path, body: "[1,2]"}, wBad("InvalidObject", "/")},
		{"BareString", badReq{path: path, body: `"hello"`}, wBad("InvalidObject", "/")},
		{"BareNumber", badReq{path: path, body: `42`}, wBad("InvalidObject", "/")},
		{"Null", badReq{path: path, body: `null`}, wBad("InvalidObject", "/")},
		{"InvalidUTF8", badReq{path: path, body: []byte("{\"name\":\"\xff\xfe\"}")}, wPayload()},
		{"TrailingGarbage", badReq{path: path, body: `{} {}`}, wPayload()},
		{"Unterminated", badReq{path: path, body: `{"name":"x"`}, wPayload()},
		{"SingleQuotes", badReq{path: path, body: `{'name':'x'}`}, wPayload()},
		{"TooDeep", badReq{path: path, body: deep}, wPayload()},
		{"OverOneMiB", badReq{path: path, body: huge}, wTooLarge()},
		{"UnknownField", badReq{path: path, body: `{"colour":"red"}`}, wBad("UnexpectedProperty", "/colour")},
		{"UnknownFieldSlashEscaped", badReq{path: path, body: `{"a/b":1}`}, wBad("UnexpectedProperty", "/a~1b")},
		{"UnknownFieldTildeEscaped", badReq{path: path, body: `{"a~b":1}`}, wBad("UnexpectedProperty", "/a~0b")},
		{"ConfigIDNotString", badReq{path: path, body: `{"config_id":5}`}, wBad("InvalidString", "/config_id")},
		{"BucketIDNotString", badReq{path: path, body: `{"bucket_id":[]}`}, wBad("InvalidString", "/bucket_id")},
		{"TenantIDNotString", badReq{path: path, body: `{"tenant_id":true}`}, wBad("InvalidString", "/tenant_id")},
		// Auth comes before the body is read.
		{"NoToken", badReq{path: path, body: bj{}, auth: badNoAuth}, wUnauthorized()},
		{"NoTokenBadBody", badReq{path: path, body: "{nope", auth: badNoAuth}, wUnauthorized()},
		{"EmptyBearer", badReq{path: path, body: bj{}, auth: "Bearer "}, wUnauthorized()},
		{"BasicScheme", badReq{path: path, body: bj{}, auth: "Basic dXNlcjpwYXNz"}, wUnauthorized()},
		{"GarbageToken", badReq{path: path, body: bj{}, auth: "Bearer garbage"}, wUnauthorized()},
		{"UnknownWellFormedToken", badReq{path: path, body: bj{}, auth: "Bearer sst_" + strings.Repeat("A", 43)}, wUnauthorized()},
		{"RevokedToken", badReq{path: path, body: bj{}, auth: "Bearer " + f.revoked}, wUnauthorized()},
	}
	if badWriteEndpoints[ep] {
		cs = append(cs, badCase{"ReadOnlyToken", badReq{path: path, body: bj{}, auth: "Bearer " + f.readOnly}, wForbidden(sesame.ScopeObjectsWrite)})
	} else {
		cs = append(cs, badCase{"LinksOnlyToken", badReq{path: path, body: bj{}, auth: "Bearer " + f.linksOnly}, wForbidden(sesame.ScopeObjectsRead)})
	}
	// put takes a JSON body only to announce a post-url or put-url upload,
	// so its pattern checks go through the multipart cases instead.
	if ep != "put" && ep != "buckets" {
		cs = append(cs,
			badCase{"BucketIDMalformed", badReq{path: path, body: bj{"bucket_id": "nope"}}, wBad("DoesNotMatchPattern", "/bucket_id")},
			badCase{"RootFolderUnknown", badReq{path: path, body: bj{"root_folder": "/nope"}}, wGone("/root_folder")},
			badCase{"RootFolderMalformed", badReq{path: path, body: bj{"root_folder": "/fx//a"}}, wBad("DoesNotMatchPattern", "/root_folder")},
			badCase{"RootFolderIsFile", badReq{path: path, body: bj{"root_folder": "/fx/a.txt"}}, wBad("BadState", "/root_folder")},
			badCase{"RootIDUnknown", badReq{path: path, body: bj{"root_id": badUnknownObject}}, wGone("/root_id")},
			badCase{"RootIDMalformed", badReq{path: path, body: bj{"root_id": "pos_x"}}, wGone("/root_id")},
			badCase{"RootIDIsFile", badReq{path: path, body: bj{"root_id": f.a.ID}}, wBad("BadState", "/root_id")},
			badCase{"RootsDisagree", badReq{path: path, body: bj{"root_folder": "/fx", "root_id": f.full.ID}}, wBad("MutuallyExclusive", "/root_folder")},
		)
	}
	for i := range cs {
		cs[i].name = ep + "/" + cs[i].name
	}
	return cs
}

const badMaxJSON = 1 << 20

// badEndpointCases are the field-level cases of each object endpoint.
func badEndpointCases(t *testing.T, f badFixtures, ver string) []badCase {
	t.Helper()
	v := strings.TrimPrefix(ver, "/")
	long := strings.Repeat("a", 256)
	longPath := "/" + strings.Repeat("p", 300)
	many := func(n int) bj {
		m := bj{}
		for i := range n {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	manyTags := make([]string, 257)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("t%d", i)
	}
	manyIDs := make([]string, 1001)
	for i := range manyIDs {
		manyIDs[i] = f.a.ID
	}
	uniq := func(s string) string { return v + "-" + s }

	var cs []badCase
	add := func(ep string, rows ...badCase) {
		for _, r := range rows {
			if r.req.path == "" {
				r.req.path = ver + "/" + ep
			}
			r.name = ep + "/" + r.name
			cs = append(cs, r)
		}
	}
	b := func(body any) badReq { return badReq{body: body} }

	add("folder/create",
		badCase{"NameNotString", b(bj{"name": 5}), wBad("InvalidString", "/name")},
		badCase{"ParentIDNotString", b(bj{"name": "x", "parent_id": 5}), wBad("InvalidString", "/parent_id")},
		badCase{"FolderNotString", b(bj{"folder": []string{"/fx"}}), wBad("InvalidString", "/folder")},
		badCase{"TagsNotArray", b(bj{"name": "x", "tags": "x"}), wBad("InvalidArray", "/tags")},
		badCase{"TagNotString", b(bj{"name": "x", "tags": []any{1}}), wBad("InvalidString", "/tags/0")},
		badCase{"MetadataArray", b(bj{"name": "x", "metadata": []any{}}), wBad("InvalidObject", "/metadata")},
		badCase{"MetadataValueNotString", b(bj{"name": "x", "metadata": bj{"k": 5}}), wBad("InvalidString", "/metadata/k")},
		badCase{"NoNameNoPath", b(bj{}), wBad("FieldRequired", "/name")},
		badCase{"EmptyName", b(bj{"name": ""}), wBad("FieldRequired", "/name")},
		badCase{"NameWithSlash", b(bj{"folder": "/fx", "name": "a/b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithNUL", b(bj{"folder": "/fx", "name": "a\u0000b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithNewline", b(bj{"folder": "/fx", "name": "a\nb"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithUnitSeparator", b(bj{"folder": "/fx", "name": "a\u001fb"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithDEL", b(bj{"folder": "/fx", "name": "a\u007fb"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameDotDot", b(bj{"folder": "/fx", "name": ".."}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameDot", b(bj{"folder": "/fx", "name": "."}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameTooLong", b(bj{"folder": "/fx", "name": long}), wBad("AboveMaxLength", "/name")},
		badCase{"FolderTooLong", b(bj{"folder": longPath}), wBad("AboveMaxLength", "/folder")},
		badCase{"PathTooLong", b(bj{"path": longPath}), wBad("AboveMaxLength", "/path")},
		badCase{"FolderDoubleSlash", b(bj{"folder": "/fx//x"}), wBad("DoesNotMatchPattern", "/folder")},
		badCase{"FolderDoubleSlashWithName", b(bj{"folder": "/fx//y", "name": "x"}), wBad("DoesNotMatchPattern", "/folder")},
		badCase{"PathDoubleSlash", b(bj{"path": "/fx//x"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathLeadingDoubleSlash", b(bj{"path": "//x"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"FolderDotDot", b(bj{"folder": "/fx/../x"}), wBad("DoesNotMatchPattern", "/folder")},
		badCase{"FolderDot", b(bj{"folder": "/fx/./x"}), wBad("DoesNotMatchPattern", "/folder")},
		badCase{"PathWithNUL", b(bj{"path": "/fx/a\u0000b"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathAndFolder", b(bj{"path": "/fx/y", "folder": "/fx", "name": "y"}), wBad("MutuallyExclusive", "/folder")},
		badCase{"PathAndOtherName", b(bj{"path": "/fx/y", "name": "z"}), wBad("MutuallyExclusive", "/name")},
		badCase{"ParentIDAndOtherFolder", b(bj{"parent_id": f.full.ID, "folder": "/fx", "name": "q"}), wBad("MutuallyExclusive", "/folder")},
		badCase{"ParentIDMalformed", b(bj{"parent_id": "pos_x", "name": "q"}), wGone("/parent_id")},
		badCase{"ParentIDUnknown", b(bj{"parent_id": badUnknownObject, "name": "q"}), wGone("/parent_id")},
		badCase{"ParentIDWrongPrefix", b(bj{"parent_id": badUnknownLink, "name": "q"}), wGone("/parent_id")},
		badCase{"ParentIDIsFile", b(bj{"parent_id": f.a.ID, "name": "q"}), wBadAt("/parent_id")},
		badCase{"FolderThroughFile", b(bj{"folder": "/fx/a.txt", "name": "q"}), wBadAt("/folder")},
		badCase{"NameTaken", b(bj{"folder": "/fx", "name": "a.txt"}), wClash("/name")},
		badCase{"FullPathTaken", b(bj{"folder": "/fx/full"}), wClash("/folder")},
		badCase{"MetadataEmptyKey", b(bj{"name": "x", "metadata": bj{"": "v"}}), wBad("InvalidPropertyName", "/metadata/")},
		badCase{"MetadataTooMany", b(bj{"name": "x", "metadata": many(257)}), wBad("AboveMaxProperties", "/metadata")},
		badCase{"MetadataValueTooLong", b(bj{"name": "x", "metadata": bj{"k": strings.Repeat("v", 1025)}}), wBad("AboveMaxLength", "/metadata/k")},
		badCase{"TagEmpty", b(bj{"name": "x", "tags": []string{"ok", ""}}), wBad("BelowMinLength", "/tags/1")},
		badCase{"TagTooLong", b(bj{"name": "x", "tags": []string{strings.Repeat("t", 65)}}), wBad("AboveMaxLength", "/tags/0")},
		badCase{"TagsTooMany", b(bj{"name": "x", "tags": manyTags}), wBad("AboveMaxItems", "/tags")},
		badCase{"FileTTLBadFormat", b(bj{"name": "x", "file_ttl": "7 days"}), wBad("BadFormatPangeaDuration", "/file_ttl")},
		badCase{"FileTTLZero", b(bj{"name": "x", "file_ttl": "0s"}), wBad("NotWithinRange", "/file_ttl")},
		badCase{"FileTTLNotString", b(bj{"name": "x", "file_ttl": 7}), wBad("InvalidString", "/file_ttl")},
		badCase{"UnknownBucket", b(bj{"name": "x", "bucket_id": badUnknownBucket}), wGone("/bucket_id")},
	)

	putPath := ver + "/put"
	mp := func(request any) badReq { return badMultipart(t, putPath, request, badFileData) }
	// Each multipart case names its own file, so that one the server
	// wrongly stores cannot turn the next into a name clash.
	n := 0
	with := func(kv ...any) bj {
		n++
		m := bj{"folder": "/fx", "name": uniq(fmt.Sprintf("x%d.bin", n))}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	// Broken multipart bodies.
	goodCT, goodBody := multipartBody(t, part{"request", "blob", "application/json", badJSON(t, with())},
		part{"file", "blob", "application/octet-stream", bytes.Repeat([]byte("z"), 4000)})
	reqOnlyCT, reqOnly := multipartBody(t, part{"request", "blob", "application/json", badJSON(t, with())})
	fileOnlyCT, fileOnly := multipartBody(t, part{"file", "blob", "application/octet-stream", badFileData})
	emptyCT, empty := multipartBody(t)
	jsonEnd := bytes.Index(goodBody, []byte(`"name"`))
	hugeReqCT, hugeReq := multipartBody(t, part{"request", "blob", "application/json", badJSON(t, with("name", strings.Repeat("n", badMaxJSON+64)))},
		part{"file", "blob", "application/octet-stream", badFileData})
	add("put",
		// JSON bodies: only post-url and put-url announce without bytes.
		badCase{"JSONWithoutFile", b(bj{}), wBad("FieldRequired", "/file")},
		badCase{"JSONNamedWithoutFile", b(with()), wBad("FieldRequired", "/file")},
		badCase{"JSONMultipartWithoutFile", b(with("transfer_method", "multipart")), wBad("FieldRequired", "/file")},
		badCase{"JSONSizeNotInteger", b(with("size", "x")), wBad("InvalidInteger", "/size")},
		badCase{"JSONSizeFraction", b(with("size", 1.5)), wBad("InvalidInteger", "/size")},
		badCase{"JSONSizeOverflow", b(`{"name":"x","size":1e30}`), wBad("InvalidInteger", "/size")},
		badCase{"JSONNameNotString", b(bj{"name": 5}), wBad("InvalidString", "/name")},
		badCase{"JSONTransferMethodUnknown", b(with("transfer_method", "carrier-pigeon")), wBad("NotEnumMember", "/transfer_method")},
		badCase{"JSONTransferMethodDestURL", b(with("transfer_method", "dest-url")), wBad("NotEnumMember", "/transfer_method")},
		badCase{"JSONTransferMethodNotString", b(with("transfer_method", 5)), wBad("InvalidString", "/transfer_method")},
		badCase{"JSONSourceURLUnsupported", b(with("transfer_method", "source-url", "source_url", "https://example.com/x")), wBadAt("/transfer_method")},
		badCase{"JSONSourceURLNotString", b(with("source_url", 5)), wBad("InvalidString", "/source_url")},
		badCase{"PostURLWithoutSize", b(with("transfer_method", "post-url", "crc32c", badZeros8, "sha256", strings.Repeat("0", 64))), wBad("FieldRequired", "/size")},
		badCase{"PostURLWithoutSHA256", b(with("transfer_method", "post-url", "crc32c", badZeros8, "size", len(badFileData))), wBad("FieldRequired", "/sha256")},
		badCase{"PostURLWithoutCRC32C", b(with("transfer_method", "post-url", "sha256", strings.Repeat("0", 64), "size", len(badFileData))), wBad("FieldRequired", "/crc32c")},
		badCase{"PostURLMalformedSHA256", b(with("transfer_method", "post-url", "sha256", "xyz")), wBad("DoesNotMatchPattern", "/sha256")},
		badCase{"PutURLPasswordEmpty", b(with("transfer_method", "put-url", "password", "")), wBad("BelowMinLength", "/password")},
		badCase{"PutURLNameWithSlash", b(bj{"transfer_method": "put-url", "name": "a/b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"PutURLParentIDMalformed", b(bj{"transfer_method": "put-url", "name": "x", "parent_id": "pos_x"}), wGone("/parent_id")},
		badCase{"PutURLParentIDUnknown", b(bj{"transfer_method": "put-url", "name": uniq("never.bin"), "parent_id": badUnknownObject}), wGone("/parent_id")},
		badCase{"PutURLFolderDoubleSlash", b(bj{"transfer_method": "put-url", "name": "x", "folder": "/fx//y"}), wBad("DoesNotMatchPattern", "/folder")},
		// Broken multipart.
		badCase{"MultipartMissingFile", badReq{body: reqOnly, ctype: reqOnlyCT}, wBad("FieldRequired", "/file")},
		badCase{"MultipartMissingRequest", badReq{body: fileOnly, ctype: fileOnlyCT}, wBad("FieldRequired", "/request")},
		badCase{"MultipartNoParts", badReq{body: empty, ctype: emptyCT}, wBad("FieldRequired", "/request")},
		badCase{"MultipartNoBoundaryParam", badReq{body: goodBody, ctype: "multipart/form-data"}, badWant{http: http.StatusBadRequest}},
		badCase{"MultipartWrongBoundary", badReq{body: goodBody, ctype: "multipart/form-data; boundary=zzzzzzzz"}, badWant{http: http.StatusBadRequest}},
		badCase{"MultipartMalformedContentType", badReq{body: goodBody, ctype: `multipart/form-data; boundary="`}, badWant{http: http.StatusBadRequest}},
		badCase{"MultipartAsMixed", badReq{body: goodBody, ctype: strings.Replace(goodCT, "form-data", "mixed", 1)}, badWant{http: http.StatusBadRequest}},
		badCase{"MultipartTruncatedInRequest", badReq{body: goodBody[:jsonEnd+3], ctype: goodCT}, badWant{http: http.StatusBadRequest}},
		badCase{"MultipartTruncatedInFile", badReq{body: goodBody[:len(goodBody)-1000], ctype: goodCT}, badWant{http: http.StatusBadRequest}},
		badCase{"MultipartRequestOverOneMiB", badReq{body: hugeReq, ctype: hugeReqCT}, wTooLarge()},
		badCase{"MultipartRequestNotJSON", mp("{nope"), wPayload()},
		badCase{"MultipartRequestArray", mp("[1]"), wBad("InvalidObject", "/")},
		badCase{"MultipartRequestUnknownField", mp(with("colour", "red")), wBad("UnexpectedProperty", "/colour")},
		// Declared values that do not match the bytes.
		badCase{"WrongSize", mp(with("size", len(badFileData)+1)), wBadAt("/size")},
		badCase{"WrongSizeZero", mp(with("size", 0)), wBadAt("/size")},
		badCase{"NegativeSize", mp(with("size", -1)), wBad("NotWithinRange", "/size")},
		badCase{"SizeNotInteger", mp(with("size", "x")), wBad("InvalidInteger", "/size")},
		badCase{"WrongSHA256", mp(with("sha256", strings.Repeat("0", 64))), wBadAt("/sha256")},
		badCase{"WrongMD5", mp(with("md5", strings.Repeat("0", 32))), wBadAt("/md5")},
		badCase{"WrongCRC32C", mp(with("crc32c", badZeros8)), wBadAt("/crc32c")},
		badCase{"WrongSHA1", mp(with("sha1", strings.Repeat("0", 40))), wBadAt("/sha1")},
		badCase{"WrongSHA512", mp(with("sha512", strings.Repeat("0", 128))), wBadAt("/sha512")},
		badCase{"SHA256NotHex", mp(with("sha256", strings.Repeat("g", 64))), wBad("DoesNotMatchPattern", "/sha256")},
		badCase{"SHA256TooShort", mp(with("sha256", "abc")), wBad("DoesNotMatchPattern", "/sha256")},
		badCase{"MD5WrongLength", mp(with("md5", strings.Repeat("0", 31))), wBad("DoesNotMatchPattern", "/md5")},
		badCase{"CRC32CNotHex", mp(with("crc32c", "zzzzzzzz")), wBad("DoesNotMatchPattern", "/crc32c")},
		badCase{"SHA256NotString", mp(with("sha256", 5)), wBad("InvalidString", "/sha256")},
		badCase{"FormatUnknown", mp(with("format", "carrier-pigeon")), wBad("NotEnumMember", "/format")},
		badCase{"FormatNotString", mp(with("format", 5)), wBad("InvalidString", "/format")},
		badCase{"PasswordEmpty", mp(with("password", "")), wBad("BelowMinLength", "/password")},
		badCase{"PasswordTooLong", mp(with("password", strings.Repeat("p", 1025))), wBad("AboveMaxLength", "/password")},
		badCase{"PasswordAlgorithmAlone", mp(with("password_algorithm", "AES-GCM-256")), wBad("IsDependentOn", "/password_algorithm")},
		badCase{"PasswordAlgorithmUnknown", mp(with("password", "pw", "password_algorithm", "ROT13")), wBad("NotEnumMember", "/password_algorithm")},
		// Unsupported options.
		badCase{"FileTTLBadFormat", mp(with("file_ttl", "7x")), wBad("BadFormatPangeaDuration", "/file_ttl")},
		badCase{"FileTTLTooLong", mp(with("file_ttl", "36501d")), wBad("NotWithinRange", "/file_ttl")},
		badCase{"MultipartSourceURL", mp(with("transfer_method", "source-url")), wBadAt("/transfer_method")},
		badCase{"MultipartPostURLWithoutHashes", mp(with("transfer_method", "post-url")), wBad("FieldRequired", "/crc32c")},
		badCase{"MultipartTransferMethodUnknown", mp(with("transfer_method", "carrier-pigeon")), wBad("NotEnumMember", "/transfer_method")},
		// Names and places.
		badCase{"NoName", mp(bj{}), wBad("FieldRequired", "/name")},
		badCase{"NameNotString", mp(bj{"name": 5}), wBad("InvalidString", "/name")},
		badCase{"NameWithSlash", mp(bj{"folder": "/fx", "name": "a/b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithNUL", mp(bj{"folder": "/fx", "name": "a\u0000b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithTab", mp(bj{"folder": "/fx", "name": "a\tb"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameDotDot", mp(bj{"folder": "/fx", "name": ".."}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameDot", mp(bj{"folder": "/fx", "name": "."}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameTooLong", mp(bj{"folder": "/fx", "name": long}), wBad("AboveMaxLength", "/name")},
		badCase{"FolderDoubleSlash", mp(bj{"folder": "/fx//y", "name": "x"}), wBad("DoesNotMatchPattern", "/folder")},
		badCase{"FolderTooLong", mp(bj{"folder": longPath, "name": "x"}), wBad("AboveMaxLength", "/folder")},
		badCase{"PathDotDot", mp(bj{"path": "/fx/../x"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathDoubleSlash", mp(bj{"path": "/fx//x"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathTooLong", mp(bj{"path": longPath}), wBad("AboveMaxLength", "/path")},
		badCase{"ParentIDMalformed", mp(bj{"parent_id": "pos_x", "name": "x"}), wGone("/parent_id")},
		badCase{"ParentIDUnknown", mp(bj{"parent_id": badUnknownObject, "name": "x"}), wGone("/parent_id")},
		badCase{"ParentIDIsFile", mp(bj{"parent_id": f.a.ID, "name": "x"}), wBadAt("/parent_id")},
		badCase{"FolderThroughFile", mp(bj{"folder": "/fx/a.txt", "name": "x"}), wBadAt("/folder")},
		badCase{"NameTaken", mp(bj{"folder": "/fx", "name": "a.txt"}), wClash("/name")},
		badCase{"MetadataArray", mp(with("metadata", []any{})), wBad("InvalidObject", "/metadata")},
		badCase{"TagNotString", mp(with("tags", []any{1})), wBad("InvalidString", "/tags/0")},
		badCase{"BucketIDMalformed", mp(with("bucket_id", "nope")), wBad("DoesNotMatchPattern", "/bucket_id")},
		badCase{"UnknownBucket", mp(with("bucket_id", badUnknownBucket)), wGone("/bucket_id")},
	)

	add("get",
		badCase{"Empty", b(bj{}), wBad("MustProvideOne", "/id")},
		badCase{"EmptyID", b(bj{"id": ""}), wBad("MustProvideOne", "/id")},
		badCase{"EmptyPath", b(bj{"path": ""}), wBad("MustProvideOne", "/id")},
		badCase{"IDNotString", b(bj{"id": 5}), wBad("InvalidString", "/id")},
		badCase{"IDMalformed", b(bj{"id": "pos_x"}), wGone("/id")},
		badCase{"IDUnknown", b(bj{"id": badUnknownObject}), wGone("/id")},
		badCase{"IDWrongPrefix", b(bj{"id": badUnknownLink}), wGone("/id")},
		badCase{"IDUpperCase", b(bj{"id": strings.ToUpper(f.a.ID)}), wGone("/id")},
		badCase{"IDWithSpace", b(bj{"id": " " + f.a.ID}), wGone("/id")},
		badCase{"PathUnknown", b(bj{"path": "/nope/x"}), wGone("/path")},
		badCase{"PathDoubleSlash", b(bj{"path": "/fx//a.txt"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathDotDot", b(bj{"path": "/fx/../fx/a.txt"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathRoot", b(bj{"path": "/"}), wBadAt("/path")},
		badCase{"IDAndPathDiffer", b(bj{"id": f.a.ID, "path": "/fx/b.txt"}), wBad("MutuallyExclusive", "/path")},
		badCase{"IDAndUnknownPath", b(bj{"id": f.a.ID, "path": "/fx/nope"}), wGone("/path")},
		badCase{"TransferMethodUnknown", b(bj{"id": f.a.ID, "transfer_method": "carrier-pigeon"}), wBad("NotEnumMember", "/transfer_method")},
		badCase{"TransferMethodPostURL", b(bj{"id": f.a.ID, "transfer_method": "post-url"}), wBad("NotEnumMember", "/transfer_method")},
		badCase{"TransferMethodNotString", b(bj{"id": f.a.ID, "transfer_method": 1}), wBad("InvalidString", "/transfer_method")},
		badCase{"DownloadFolderByID", b(bj{"id": f.full.ID, "transfer_method": "multipart"}), wBadAt("/id")},
		badCase{"DownloadFolderByPath", b(bj{"path": "/fx/full", "transfer_method": "dest-url"}), wBadAt("/path")},
		badCase{"PasswordNotString", b(bj{"id": f.a.ID, "password": 5}), wBad("InvalidString", "/password")},
		badCase{"UnknownBucket", b(bj{"id": f.a.ID, "bucket_id": badUnknownBucket}), badWant{http: http.StatusNotFound, status: "NotFound"}},
	)

	add("get_archive",
		badCase{"NoIDs", b(bj{}), wBad("FieldRequired", "/ids")},
		badCase{"EmptyIDs", b(bj{"ids": []string{}}), wBadAt("/ids")},
		badCase{"IDsString", b(bj{"ids": "pos_x"}), wBad("InvalidArray", "/ids")},
		badCase{"IDsObject", b(bj{"ids": bj{"a": 1}}), wBad("InvalidArray", "/ids")},
		badCase{"IDNotString", b(bj{"ids": []any{5}}), wBad("InvalidString", "/ids/0")},
		badCase{"IDMalformed", b(bj{"ids": []string{"pos_x"}}), wGone("/ids/0")},
		badCase{"SecondIDUnknown", b(bj{"ids": []string{f.a.ID, badUnknownObject}}), wGone("/ids/1")},
		badCase{"SecondIDEmpty", b(bj{"ids": []string{f.a.ID, ""}}), wGone("/ids/1")},
		badCase{"TooManyIDs", b(bj{"ids": manyIDs}), wBad("AboveMaxItems", "/ids")},
		badCase{"FormatRar", b(bj{"ids": []string{f.a.ID}, "format": "rar"}), wBad("NotEnumMember", "/format")},
		badCase{"FormatUpperCase", b(bj{"ids": []string{f.a.ID}, "format": "ZIP"}), wBad("NotEnumMember", "/format")},
		badCase{"FormatNotString", b(bj{"ids": []string{f.a.ID}, "format": 5}), wBad("InvalidString", "/format")},
		badCase{"TransferMethodUnknown", b(bj{"ids": []string{f.a.ID}, "transfer_method": "carrier-pigeon"}), wBad("NotEnumMember", "/transfer_method")},
		badCase{"TransferMethodPutURL", b(bj{"ids": []string{f.a.ID}, "transfer_method": "put-url"}), wBad("NotEnumMember", "/transfer_method")},
		badCase{"UnknownBucket", b(bj{"ids": []string{f.a.ID}, "bucket_id": badUnknownBucket}), badWant{http: http.StatusNotFound, status: "NotFound"}},
	)

	add("list",
		badCase{"SizeZero", b(bj{"size": 0}), wBad("NotWithinRange", "/size")},
		badCase{"Size1001", b(bj{"size": 1001}), wBad("NotWithinRange", "/size")},
		badCase{"SizeNegative", b(bj{"size": -1}), wBad("NotWithinRange", "/size")},
		badCase{"SizeString", b(bj{"size": "10"}), wBad("InvalidInteger", "/size")},
		badCase{"SizeFraction", b(bj{"size": 1.5}), wBad("InvalidInteger", "/size")},
		badCase{"LastGarbage", b(bj{"last": "!!!not a cursor!!!"}), wBadAt("/last")},
		badCase{"LastBase64NotCursor", b(bj{"last": "bm9wZQ"}), wBadAt("/last")},
		badCase{"LastNotString", b(bj{"last": 5}), wBad("InvalidString", "/last")},
		badCase{"OrderSideways", b(bj{"order": "sideways"}), wBad("NotEnumMember", "/order")},
		badCase{"OrderNotString", b(bj{"order": 1}), wBad("InvalidString", "/order")},
		badCase{"OrderByColour", b(bj{"order_by": "colour"}), wBad("NotEnumMember", "/order_by")},
		badCase{"OrderByNotString", b(bj{"order_by": []string{"name"}}), wBad("InvalidString", "/order_by")},
		badCase{"IncludeExternalBucketKeyNotBool", b(bj{"include_external_bucket_key": "no"}), wBad("InvalidBool", "/include_external_bucket_key")},
		badCase{"FilterArray", b(bj{"filter": []any{}}), wBad("InvalidObject", "/filter")},
		badCase{"FilterString", b(bj{"filter": "name=x"}), wBad("InvalidObject", "/filter")},
		badCase{"FilterUnknownKey", b(bj{"filter": bj{"colour": "red"}}), wBad("UnexpectedProperty", "/filter/colour")},
		badCase{"FilterUnknownOperator", b(bj{"filter": bj{"name__bogus": "x"}}), wBad("UnexpectedProperty", "/filter/name__bogus")},
		badCase{"FilterKeySlashEscaped", b(bj{"filter": bj{"a/b": "x"}}), wBad("UnexpectedProperty", "/filter/a~1b")},
		badCase{"FilterSizeGtNotNumber", b(bj{"filter": bj{"size__gt": "abc"}}), wBad("InvalidInteger", "/filter/size__gt")},
		badCase{"FilterSizeFraction", b(bj{"filter": bj{"size": 1.5}}), wBad("InvalidInteger", "/filter/size")},
		badCase{"FilterSizeLtBool", b(bj{"filter": bj{"size__lt": true}}), wBad("InvalidInteger", "/filter/size__lt")},
		badCase{"FilterSizeIn", b(bj{"filter": bj{"size__in": []int{1}}}), wBad("UnexpectedProperty", "/filter/size__in")},
		badCase{"FilterCreatedAtYesterday", b(bj{"filter": bj{"created_at__gt": "yesterday"}}), wBad("BadFormatDateTime", "/filter/created_at__gt")},
		badCase{"FilterUpdatedAtNumber", b(bj{"filter": bj{"updated_at": 5}}), wBad("BadFormatDateTime", "/filter/updated_at")},
		badCase{"FilterCreatedAtContains", b(bj{"filter": bj{"created_at__contains": []string{"2025"}}}), wBad("UnexpectedProperty", "/filter/created_at__contains")},
		badCase{"FilterNameInNumber", b(bj{"filter": bj{"name__in": 5}}), wBad("InvalidArray", "/filter/name__in")},
		badCase{"FilterNameNumber", b(bj{"filter": bj{"name": 5}}), wBad("InvalidString", "/filter/name")},
		badCase{"FilterNameGt", b(bj{"filter": bj{"name__gt": "a"}}), wBad("UnexpectedProperty", "/filter/name__gt")},
		badCase{"FilterTagsNumber", b(bj{"filter": bj{"tags": 5}}), wBad("InvalidArray", "/filter/tags")},
		badCase{"FilterTagsIn", b(bj{"filter": bj{"tags__in": []string{"a"}}}), wBad("UnexpectedProperty", "/filter/tags__in")},
		badCase{"FilterFolderNumber", b(bj{"filter": bj{"folder": 5}}), wBad("InvalidString", "/filter/folder")},
		badCase{"FilterFolderDoubleSlash", b(bj{"filter": bj{"folder": "/fx//x"}}), wBad("DoesNotMatchPattern", "/filter/folder")},
		badCase{"FilterFolderIn", b(bj{"filter": bj{"folder__in": []string{"/fx"}}}), wBadAt("/filter/folder__in")},
		badCase{"UnknownBucket", b(bj{"bucket_id": badUnknownBucket}), wGone("/bucket_id")},
	)

	stale := "2000-01-01T00:00:00Z"
	add("update",
		badCase{"Empty", b(bj{}), wBad("MustProvideOne", "/id")},
		badCase{"NameOnly", b(bj{"name": "x"}), wBad("MustProvideOne", "/id")},
		badCase{"IDNotString", b(bj{"id": 5}), wBad("InvalidString", "/id")},
		badCase{"IDMalformed", b(bj{"id": "pos_x", "name": "x"}), wGone("/id")},
		badCase{"IDUnknown", b(bj{"id": badUnknownObject, "name": "x"}), wGone("/id")},
		badCase{"PathUnknown", b(bj{"path": "/nope", "name": "x"}), wGone("/path")},
		badCase{"PathRoot", b(bj{"path": "/", "name": "x"}), wBadAt("/path")},
		badCase{"IDAndPathDiffer", b(bj{"id": f.a.ID, "path": "/fx/b.txt", "name": "x"}), wBad("MutuallyExclusive", "/path")},
		badCase{"UpdatedAtNotTime", b(bj{"id": f.a.ID, "updated_at": "yesterday"}), wBad("BadFormatDateTime", "/updated_at")},
		badCase{"UpdatedAtNotString", b(bj{"id": f.a.ID, "updated_at": 5}), wBad("InvalidString", "/updated_at")},
		badCase{"UpdatedAtStale", b(bj{"id": f.a.ID, "updated_at": stale}), wClash("/updated_at")},
		badCase{"UpdatedAtStaleWithRename", b(bj{"id": f.a.ID, "updated_at": stale, "name": uniq("renamed.txt")}), wClash("/updated_at")},
		badCase{"RenameOntoSibling", b(bj{"id": f.a.ID, "name": "b.txt"}), wClash("/name")},
		badCase{"NameNotString", b(bj{"id": f.a.ID, "name": 5}), wBad("InvalidString", "/name")},
		badCase{"NameEmpty", b(bj{"id": f.a.ID, "name": ""}), wBadAt("/name")},
		badCase{"NameWithSlash", b(bj{"id": f.a.ID, "name": "a/b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithNUL", b(bj{"id": f.a.ID, "name": "a\u0000b"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameWithCR", b(bj{"id": f.a.ID, "name": "a\rb"}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameDotDot", b(bj{"id": f.a.ID, "name": ".."}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameDot", b(bj{"id": f.a.ID, "name": "."}), wBad("DoesNotMatchPattern", "/name")},
		badCase{"NameTooLong", b(bj{"id": f.a.ID, "name": long}), wBad("AboveMaxLength", "/name")},
		badCase{"ParentIDMalformed", b(bj{"id": f.a.ID, "parent_id": "pos_x"}), wGone("/parent_id")},
		badCase{"ParentIDUnknown", b(bj{"id": f.a.ID, "parent_id": badUnknownObject}), wGone("/parent_id")},
		badCase{"ParentIDIsFile", b(bj{"id": f.a.ID, "parent_id": f.b.ID}), wBadAt("/parent_id")},
		badCase{"MoveFolderIntoItself", b(bj{"id": f.full.ID, "parent_id": f.full.ID}), wAnyAt("/parent_id")},
		badCase{"MoveFolderIntoChild", b(bj{"id": f.full.ID, "parent_id": f.inner.ID}), wAnyAt("/parent_id")},
		badCase{"MoveFolderIntoChildByPath", b(bj{"id": f.full.ID, "folder": "/fx/full/inner"}), wAnyAt("/folder")},
		badCase{"MoveFolderIntoNewGrandchildByPath", b(bj{"id": f.full.ID, "folder": "/fx/full/inner/deeper"}), wAnyAt("/folder")},
		badCase{"FolderDoubleSlash", b(bj{"id": f.a.ID, "folder": "/fx//x"}), wBad("DoesNotMatchPattern", "/folder")},
		badCase{"FolderTooLong", b(bj{"id": f.a.ID, "folder": longPath}), wBad("AboveMaxLength", "/folder")},
		badCase{"FolderAndParentIDDiffer", b(bj{"id": f.a.ID, "folder": "/fx", "parent_id": f.full.ID}), wBad("MutuallyExclusive", "/folder")},
		badCase{"MetadataArray", b(bj{"id": f.a.ID, "metadata": []any{}}), wBad("InvalidObject", "/metadata")},
		badCase{"AddMetadataString", b(bj{"id": f.a.ID, "add_metadata": "x"}), wBad("InvalidObject", "/add_metadata")},
		badCase{"RemoveMetadataArray", b(bj{"id": f.a.ID, "remove_metadata": []any{}}), wBad("InvalidObject", "/remove_metadata")},
		badCase{"MetadataTooMany", b(bj{"id": f.a.ID, "metadata": many(257)}), wBad("AboveMaxProperties", "/metadata")},
		badCase{"AddMetadataTooMany", b(bj{"id": f.a.ID, "add_metadata": many(257)}), wBad("AboveMaxProperties", "/add_metadata")},
		badCase{"TagNotString", b(bj{"id": f.a.ID, "tags": []any{1}}), wBad("InvalidString", "/tags/0")},
		badCase{"AddTagsString", b(bj{"id": f.a.ID, "add_tags": "x"}), wBad("InvalidArray", "/add_tags")},
		badCase{"RemoveTagsNumber", b(bj{"id": f.a.ID, "remove_tags": 5}), wBad("InvalidArray", "/remove_tags")},
		badCase{"AddTagEmpty", b(bj{"id": f.a.ID, "add_tags": []string{""}}), wBad("BelowMinLength", "/add_tags/0")},
		badCase{"AddPasswordEmpty", b(bj{"id": f.a.ID, "add_password": ""}), wBad("BelowMinLength", "/add_password")},
		badCase{"AddPasswordAlgorithmUnknown", b(bj{"id": f.a.ID, "add_password": "pw", "add_password_algorithm": "ROT13"}), wBad("NotEnumMember", "/add_password_algorithm")},
		badCase{"AddPasswordToFolder", b(bj{"id": f.full.ID, "add_password": "pw"}), wBad("BadState", "/add_password")},
		badCase{"RemovePasswordNoneSet", b(bj{"id": f.a.ID, "remove_password": "pw"}), wBad("BadState", "/remove_password")},
		badCase{"AddPasswordAlgorithmAlone", b(bj{"id": f.a.ID, "add_password_algorithm": "AES-GCM-256"}), wBad("IsDependentOn", "/add_password_algorithm")},
		badCase{"FileTTLBadFormat", b(bj{"id": f.a.ID, "file_ttl": "forever"}), wBad("BadFormatPangeaDuration", "/file_ttl")},
		badCase{"FileTTLEmptyUnit", b(bj{"id": f.a.ID, "file_ttl": "7"}), wBad("BadFormatPangeaDuration", "/file_ttl")},
		badCase{"UnknownBucket", b(bj{"id": f.a.ID, "bucket_id": badUnknownBucket, "name": "x"}), badWant{http: http.StatusNotFound, status: "NotFound"}},
	)

	add("delete",
		badCase{"Empty", b(bj{}), wBad("MustProvideOne", "/id")},
		badCase{"ForceOnly", b(bj{"force": true}), wBad("MustProvideOne", "/id")},
		badCase{"IDNotString", b(bj{"id": 5}), wBad("InvalidString", "/id")},
		badCase{"IDMalformed", b(bj{"id": "pos_x"}), wGone("/id")},
		badCase{"IDUnknown", b(bj{"id": badUnknownObject}), wGone("/id")},
		badCase{"PathUnknown", b(bj{"path": "/nope"}), wGone("/path")},
		badCase{"PathDoubleSlash", b(bj{"path": "/fx//a.txt"}), wBad("DoesNotMatchPattern", "/path")},
		badCase{"PathRoot", b(bj{"path": "/"}), wBadAt("/path")},
		badCase{"IDAndPathDiffer", b(bj{"id": f.a.ID, "path": "/fx/b.txt"}), wBad("MutuallyExclusive", "/path")},
		badCase{"ForceYes", b(bj{"id": f.a.ID, "force": "yes"}), wBad("InvalidBool", "/force")},
		badCase{"ForceOne", b(bj{"id": f.a.ID, "force": 1}), wBad("InvalidBool", "/force")},
		badCase{"NonEmptyFolder", b(bj{"id": f.full.ID}), wClash("/force")},
		badCase{"NonEmptyFolderForceFalse", b(bj{"id": f.full.ID, "force": false}), wClash("/force")},
		badCase{"NonEmptyFolderByPath", b(bj{"path": "/fx/full"}), wClash("/force")},
		badCase{"UnknownBucket", b(bj{"id": f.a.ID, "bucket_id": badUnknownBucket}), badWant{http: http.StatusNotFound, status: "NotFound"}},
	)
	return cs
}

// TestBadInput_DocumentedFieldsAccepted is the control for the strict
// decoder: every field the reference says to accept on every endpoint
// (bucket_id, config_id, tenant_id, an empty root_folder/root_id) must not
// be refused as an unknown property.
func TestBadInput_DocumentedFieldsAccepted(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	f := newBadFixtures(t, env)
	extra := bj{"bucket_id": f.bucket, "config_id": "pci_wuk7tvtpswyjtlsx52b7yyi2l7zotv4a", "tenant_id": "tenant-1", "root_folder": "", "root_id": ""}
	merge := func(m bj) bj {
		out := bj{}
		for k, v := range extra {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for _, ver := range []string{"/v1", "/v1beta"} {
		v := strings.TrimPrefix(ver, "/")
		bodies := []struct {
			ep   string
			body bj
		}{
			{"buckets", bj{}},
			{"folder/create", bj{"folder": "/ok/" + v}},
			{"get", bj{"id": f.a.ID}},
			{"get_archive", bj{"ids": []string{f.a.ID}, "transfer_method": "dest-url"}},
			{"list", bj{"filter": bj{"folder": "/fx"}}},
			{"update", bj{"id": f.b.ID, "add_tags": []string{v}}},
		}
		for _, bb := range bodies {
			t.Run(v+"/"+bb.ep, func(t *testing.T) {
				r := env.badSend(t, badReq{path: ver + "/" + bb.ep, body: merge(bb.body)})
				if r.Code != http.StatusOK || r.Status != "Success" {
					t.Errorf("got %d %s, want 200 Success: %s", r.Code, r.Status, r.Raw)
				}
			})
		}
		t.Run(v+"/put", func(t *testing.T) {
			r := env.badSend(t, badMultipart(t, ver+"/put", merge(bj{"folder": "/ok", "name": v + ".bin"}), badFileData))
			if r.Code != http.StatusOK || r.Status != "Success" {
				t.Errorf("got %d %s, want 200 Success: %s", r.Code, r.Status, r.Raw)
			}
		})
		t.Run(v+"/delete", func(t *testing.T) {
			sub := *env
			sub.t = t
			o := sub.mkdir("/del/" + v)
			r := env.badSend(t, badReq{path: ver + "/delete", body: merge(bj{"id": o.ID})})
			if r.Code != http.StatusOK || r.Status != "Success" {
				t.Errorf("got %d %s, want 200 Success: %s", r.Code, r.Status, r.Raw)
			}
		})
	}
}

// TestBadInput_TruncatedUploadNotStored checks that a multipart upload cut
// off inside the file part is refused and leaves nothing behind.
func TestBadInput_TruncatedUploadNotStored(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	ct, body := multipartBody(t, part{"request", "blob", "application/json", []byte(`{"folder":"/t","name":"cut.bin"}`)},
		part{"file", "blob", "application/octet-stream", data})
	body = body[:len(body)-5000]
	r := env.badSend(t, badReq{path: "/v1/put", body: body, ctype: ct})
	badCheck(t, r, badWant{http: http.StatusBadRequest})
	got := env.post("/v1/get", bj{"path": "/t/cut.bin"})
	if got.Code != http.StatusNotFound {
		t.Errorf("after a truncated upload, get /t/cut.bin gave %d, want 404: %.400s", got.Code, got.Raw)
	}
}

// TestBadInput_UploadTooLarge checks the per-file cap.
func TestBadInput_UploadTooLarge(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(c *gateway.Config) { c.Objects.Policy.MaxFileSize = 1024 })
	r := env.badSend(t, badMultipart(t, "/v1/put", bj{"folder": "/big", "name": "big.bin"}, bytes.Repeat([]byte("x"), 4096)))
	badCheck(t, r, wTooLarge())
	if got := env.post("/v1/get", bj{"path": "/big/big.bin"}); got.Code != http.StatusNotFound {
		t.Errorf("the oversized file was stored: get gave %d", got.Code)
	}
}

// badAnnounce starts a put-url or post-url upload and returns the URL to send
// the bytes to and the poll location.
func badAnnounce(t *testing.T, env *testEnv, req bj) (uploadURL, location string) {
	t.Helper()
	r := env.badSend(t, badReq{path: "/v1/put", body: req})
	if r.Code != http.StatusAccepted || r.Status != "Accepted" {
		t.Fatalf("got %d %s, want 202 Accepted: %s", r.Code, r.Status, r.Raw)
	}
	var res struct {
		Location string `json:"location"`
		PutURL   string `json:"put_url"`
		PostURL  string `json:"post_url"`
	}
	r.Into(t, &res)
	uploadURL = res.PutURL + res.PostURL
	if uploadURL == "" || res.Location == "" {
		t.Fatalf("no upload URL or location in %s", r.Raw)
	}
	return strings.TrimPrefix(uploadURL, env.srv.URL), strings.TrimPrefix(res.Location, env.srv.URL)
}

// TestBadInput_PutURLSizeMismatch sends the wrong number of bytes to a
// put-url: the PUT and the poll both report /size.
func TestBadInput_PutURLSizeMismatch(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	up, loc := badAnnounce(t, env, bj{"transfer_method": "put-url", "folder": "/pu", "name": "x.bin", "size": 3})
	r := env.badSend(t, badReq{method: http.MethodPut, path: up, body: "five!", ctype: "application/octet-stream", auth: badNoAuth})
	badCheck(t, r, wBadAt("/size"))
	p := env.badSend(t, badReq{method: http.MethodGet, path: loc})
	badCheck(t, p, wBadAt("/size"))
	// The URL was single-use.
	again := env.badSend(t, badReq{method: http.MethodPut, path: up, body: "abc", ctype: "application/octet-stream", auth: badNoAuth})
	badCheck(t, again, wNotFound())
}

// TestBadInput_UploadURLBadBodies sends broken bodies to a post-url.
func TestBadInput_UploadURLBadBodies(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cases := []struct {
		name  string
		body  string
		ctype string
		want  badWant
	}{
		{"NotMultipart", `{"file":"x"}`, "application/json", badWant{http: http.StatusBadRequest}},
		{"NoFilePart", "--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nv\r\n--b--\r\n", "multipart/form-data; boundary=b", wBad("FieldRequired", "/file")},
		{"Truncated", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n\r\nhello", "multipart/form-data; boundary=b", badWant{http: http.StatusBadRequest}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up, loc := badAnnounce(t, env, bj{"transfer_method": "post-url", "folder": "/po", "name": fmt.Sprintf("x%d.bin", i),
				"size": 5, "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "crc32c": "9a71bb4c"})
			r := env.badSend(t, badReq{path: up, body: tc.body, ctype: tc.ctype, auth: badNoAuth})
			badCheck(t, r, tc.want)
			p := env.badSend(t, badReq{method: http.MethodGet, path: loc})
			badCheckEnvelope(t, p)
		})
	}
	t.Run("WrongMethod", func(t *testing.T) {
		up, _ := badAnnounce(t, env, bj{"transfer_method": "put-url", "folder": "/po", "name": "wm.bin"})
		ct, body := multipartBody(t, part{"file", "file", "application/octet-stream", []byte("hi")})
		r := env.badSend(t, badReq{path: up, body: body, ctype: ct, auth: badNoAuth})
		badCheck(t, r, badWant{http: http.StatusBadRequest})
	})
}

// TestBadInput_StaleCursor reuses a cursor under another order.
func TestBadInput_StaleCursor(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	for _, p := range []string{"/sc/a", "/sc/b", "/sc/c"} {
		env.mkdir(p)
	}
	r := env.post("/v1/list", bj{"size": 1, "order_by": "name"})
	mustOK(t, r)
	var page struct {
		Last string `json:"last"`
	}
	r.Into(t, &page)
	if page.Last == "" {
		t.Fatalf("no cursor in %s", r.Raw)
	}
	for _, body := range []bj{
		{"size": 1, "last": page.Last, "order_by": "created_at"},
		{"size": 1, "last": page.Last, "order_by": "name", "order": "desc"},
		{"size": 1, "last": page.Last[:len(page.Last)-2]},
	} {
		badCheck(t, env.badSend(t, badReq{path: "/v1/list", body: body}), wBadAt("/last"))
	}
}

// TestBadInput_CrossOrigin: a browser-driven cross-site POST is refused, and
// the refusal is still an error envelope (reference §2.4: every error body is JSON).
func TestBadInput_CrossOrigin(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	for name, h := range map[string]map[string]string{
		"SecFetchSite": {"Sec-Fetch-Site": "cross-site"},
		"Origin":       {"Origin": "https://evil.example"},
	} {
		t.Run(name, func(t *testing.T) {
			r := env.badSend(t, badReq{path: "/v1/list", body: bj{}, header: h})
			badCheck(t, r, badWant{http: http.StatusForbidden})
		})
	}
}

// TestBadInput_ForbiddenNamesScope: the 403 says which scope is missing.
func TestBadInput_ForbiddenNamesScope(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	read := env.newToken(sesame.ScopeObjectsRead)
	r := env.postAs(read, "/v1/folder/create", bj{"folder": "/nope"})
	badCheck(t, r, wForbidden(sesame.ScopeObjectsWrite))
	if got := env.post("/v1/get", bj{"path": "/nope"}); got.Code != http.StatusNotFound {
		t.Errorf("the refused folder/create made /nope anyway: get gave %d", got.Code)
	}
}
