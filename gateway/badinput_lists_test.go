package gateway_test

import (
	"strings"

	"github.com/sesame-share/sesame"
)

// Bad input to audit/list and notifications/list.

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
