package gateway_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
)

// Bad input to the share-link API: create, get, list, update, delete and
// send.

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
		a("AuthTypeSocialWithoutProvider", it("authenticators", []bj{{"auth_type": "social", "auth_context": "x"}}), wBad("ProviderDisabled", "/links/0/authenticators/0/auth_type")),
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
