package conformance

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash/crc32"
)

// The values below are the hand-written part of the requests: what the
// document's schemas cannot produce because it depends on the server's
// state (ids and paths of existing objects, a cursor, the bucket, the
// current updated_at) or on the bytes sent (hashes, size, format).
// Everything else comes from the schemas (examples.go).

// valueFn computes a value for one call.
type valueFn func(c *call) any

func constant(v any) valueFn { return func(*call) any { return v } }

// fixtures are the objects and links of one API version's run.
type fixtures struct {
	bucket             string
	root, rootPath     string // the folder every object of the run lives in
	sub, subPath       string // a folder, for upload links
	file, filePath     string // a file that get, links and filters name
	fileName           string
	upd                string // a file that update calls change
	link, link2        string // two links, so that a page of one has a next
	objCursor, lnkCurs string
}

const (
	email    = "joe.user@email.com"
	phone    = "+15555550123"
	password = "my_fav_Pa55word" // the document's example; 15 characters suffice alone
)

// overrides gives the value of a field by "op /pointer" (op as in the
// deviation table; "put" also serves "put (json)") or "* /pointer" for
// every operation. A field of an enum is still sent with every member,
// each in its own call, unless single names it.
var overrides = map[string]valueFn{
	"* /bucket_id":   func(c *call) any { return c.fx.bucket },
	"* /tenant_id":   constant("tenant-conformance"),
	"* /config_id":   constant("pci_conformance"),
	"* /root_folder": func(c *call) any { return c.fx.rootPath },
	"* /root_id":     func(c *call) any { return c.fx.root },
	"* /name":        func(c *call) any { return c.name() },
	"* /parent_id":   func(c *call) any { return c.fx.root },
	"* /folder":      func(c *call) any { return c.fx.rootPath },
	"* /path":        func(c *call) any { return c.fx.rootPath + "/" + c.name() },
	"* /last":        func(c *call) any { return c.fx.objCursor },
	"* /size":        constant(10),

	"put /size": func(c *call) any { return len(c.payload()) },
	"put /crc32c": func(c *call) any {
		return fmt.Sprintf("%08x", crc32.Checksum(c.payload(), crc32.MakeTable(crc32.Castagnoli)))
	},
	"put /md5":                    func(c *call) any { s := md5.Sum(c.payload()); return hex.EncodeToString(s[:]) },
	"put /sha1":                   func(c *call) any { s := sha1.Sum(c.payload()); return hex.EncodeToString(s[:]) },
	"put /sha256":                 func(c *call) any { s := sha256.Sum256(c.payload()); return hex.EncodeToString(s[:]) },
	"put /sha512":                 func(c *call) any { s := sha512.Sum512(c.payload()); return hex.EncodeToString(s[:]) },
	"put /format":                 constant("TXT"),
	"put /mimetype":               constant("text/plain"),
	"put /source_url":             constant("https://example.com/conformance.txt"),
	"put (json) /transfer_method": constant("put-url"),

	"get /id":            func(c *call) any { return c.fx.file },
	"get /path":          func(c *call) any { return c.fx.filePath },
	"get_archive /ids":   func(c *call) any { return []any{c.fx.file} },
	"delete /id":         func(c *call) any { return c.fresh().id },
	"delete /path":       func(c *call) any { return c.fresh().path },
	"update /id":         func(c *call) any { return c.fx.upd },
	"update /path":       func(c *call) any { return c.current(c.fx.upd).path },
	"update /updated_at": func(c *call) any { return c.current(c.fx.upd).updatedAt },

	"list /filter/folder":         func(c *call) any { return c.fx.rootPath },
	"list /filter/id":             func(c *call) any { return c.fx.file },
	"list /filter/id__in":         func(c *call) any { return []any{c.fx.file} },
	"list /filter/name":           func(c *call) any { return c.fx.fileName },
	"list /filter/name__contains": constant([]any{"a"}),
	"list /filter/name__in":       func(c *call) any { return []any{c.fx.fileName} },
	"list /filter/parent_id":      func(c *call) any { return c.fx.root },
	"list /filter/parent_id__in":  func(c *call) any { return []any{c.fx.root} },
	"list /filter/type":           constant("file"),
	"list /filter/type__contains": constant([]any{"fi"}),
	"list /filter/type__in":       constant([]any{"file", "folder"}),
	"list /filter/tags":           constant([]any{"conformance"}),

	"share/link/create /links/0/targets":                       func(c *call) any { return []any{c.fx.file} },
	"share/link/create /links/0/link_type":                     constant("download"),
	"share/link/create /links/0/authenticators/0/auth_type":    constant("email_otp"),
	"share/link/create /links/0/authenticators/0/auth_context": constant(email),
	"share/link/create /links/0/expires_at":                    constant("2030-01-01T00:00:00Z"),
	"share/link/get /id":                                       func(c *call) any { return c.fx.link },
	"share/link/delete /ids":                                   func(c *call) any { return []any{c.freshLink()} },
	"share/link/send /links/0/id":                              func(c *call) any { return c.fx.link },
	"share/link/send /links/0/language":                        constant("de"),
	"share/link/create /links/0/send_params/language":          constant("fr"),
	"share/link/list /last":                                    func(c *call) any { return c.fx.lnkCurs },
	"share/link/list /filter/id":                               func(c *call) any { return c.fx.link },
	"share/link/list /filter/id__contains":                     constant([]any{"psl_"}),
	"share/link/list /filter/id__in":                           func(c *call) any { return []any{c.fx.link} },
	"share/link/list /filter/target_id":                        func(c *call) any { return c.fx.file },
	"share/link/list /filter/target_id__contains":              constant([]any{"pos_"}),
	"share/link/list /filter/target_id__in":                    func(c *call) any { return []any{c.fx.file} },
	"share/link/list /filter/link_type":                        constant("download"),
	"share/link/list /filter/link_type__contains":              constant([]any{"down"}),
	"share/link/list /filter/link_type__in":                    constant([]any{"download", "editor"}),
	"share/link/list /filter/recipient_email":                  constant(email),
	"share/link/list /filter/sender_email":                     constant(email),
}

// single names the enum fields sent with one value only: the format must
// match the bytes sent.
var single = map[string]bool{"put /format": true}

// always names the fields every call of an operation sends beside the
// required ones, so that the call is about something that exists.
var always = map[string][]string{
	"folder/create":     {"/name", "/parent_id"},
	"get":               {"/id"},
	"get_archive":       {"/ids"},
	"update":            {"/id"},
	"delete":            {"/id"},
	"put":               {"/name", "/parent_id"},
	"put (json)":        {"/name", "/parent_id", "/transfer_method"},
	"share/link/create": {"/links/0/targets", "/links/0/link_type", "/links/0/authenticators/0/auth_type", "/links/0/authenticators/0/auth_context"},
	"share/link/delete": {"/ids"},
	"share/link/send":   {"/links/0/id", "/links/0/email"},
}

// companions are the fields a value needs beside it, by its label.
var companions = map[string]map[string]valueFn{
	"put /transfer_method=post-url": {"/size": overrides["put /size"], "/crc32c": overrides["put /crc32c"],
		"/sha256": overrides["put /sha256"]},
	"put /transfer_method=source-url":                                {"/source_url": overrides["put /source_url"]},
	"share/link/create /links/0/link_type=upload":                    {"/links/0/targets": func(c *call) any { return []any{c.fx.sub} }},
	"share/link/create /links/0/authenticators/0/auth_type=password": {"/links/0/authenticators/0/auth_context": constant(password)},
	"share/link/create /links/0/authenticators/0/auth_type=sms_otp":  {"/links/0/authenticators/0/auth_context": constant(phone)},
	"share/link/create /links/0/authenticators/0/auth_type=social":   {"/links/0/authenticators/0/auth_context": constant(email)},
}

// lookup finds the entry of m for op and ptr: the operation's own, then
// that of put for "put (json)", then the one for every operation.
func lookup[V any](m map[string]V, op, ptr string) (V, bool) {
	for _, k := range []string{op + " " + ptr, baseOp(op) + " " + ptr, "* " + ptr} {
		if v, ok := m[k]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func baseOp(op string) string {
	if op == "put (json)" {
		return "put"
	}
	return op
}
