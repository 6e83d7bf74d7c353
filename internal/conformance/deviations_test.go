package conformance

// This file is the one place where sesame may differ from Pangea's OpenAPI
// document. TestConformance judges every reply by the document as these
// entries change it, and tolerates a 4xx answer only to the request fields
// they name; README.md renders the table (TestDeviationsInREADME keeps the
// two equal; go test -run TestDeviationsInREADME -update rewrites it).

// group sorts the deviations as the README shows them.
type group int

const (
	// extension: sesame adds a field or an endpoint the document lacks.
	extension group = iota
	// difference: the document contradicts itself or the live service, or
	// sesame refuses something on purpose.
	difference
	// notYet: the document has it and sesame does not, yet. Delete the
	// entry when the feature lands; the run then insists on it.
	notYet
)

var groupTitles = map[group]string{
	extension:  "Extensions",
	difference: "Differences",
	notYet:     "Not yet implemented (the test tolerates a refusal of exactly these fields; each entry goes when its feature lands)",
}

// deviation is one way sesame's API differs from the document.
type deviation struct {
	group group
	what  string // what differs, as the README says it
	why   string // the reason
	// patch changes the test's copy of the document so that it describes
	// what sesame does; nil when the entry needs no change to it.
	patch func(d jsonDoc)
	// refuse names the request fields whose 4xx answer is expected:
	// "op /pointer" or "op /pointer=value", where op is the path without
	// its version ("put", "share/link/create"; "put (json)" is a put with
	// a JSON body) or "*" for every operation.
	refuse []string
}

// sdkErrorStatuses are the status strings of error replies that the SDKs
// map to their error classes (reference §2.4).
var sdkErrorStatuses = []string{"ValidationError", "NotFound", "Unauthorized", "TooManyRequests", "ServiceNotAvailable",
	"InvalidPayloadReceived", "InternalError"}

// errorStatuses are the HTTP statuses of sesame's error replies to a
// request that reaches a handler; 5xx are never expected.
var errorStatuses = []string{"401", "403", "404", "409", "413", "422", "429"}

var deviations = []deviation{
	// Extensions.
	{group: extension, what: "`crc32c` on objects",
		why:   "the CRC32C of a file, computed as it is stored; the document takes it on `put` but never returns it",
		patch: func(d jsonDoc) { d.addProperty("Object", "crc32c", ref("HashCRC32CHex")) }},
	{group: extension, what: "`share_link_ids` on objects",
		why:   "the links that share the object, so that an app can find and revoke them",
		patch: func(d jsonDoc) { d.addProperty("Object", "share_link_ids", arrayOf(ref("IDShareLink"))) }},
	{group: extension, what: "`max_downloads` and `download_count` on links; `max_downloads` on `share/link/create`",
		why: "a cap on real downloads beside the document's cap on sign-ins",
		patch: func(d jsonDoc) {
			d.addProperty("ShareLinkObject", "max_downloads", integer())
			d.addProperty("ShareLinkObject", "download_count", integer())
			d.addProperty("ShareLinkCreateItem", "max_downloads", integer())
		}},
	{group: extension, what: "`notify_email` on links and on `share/link/create`",
		why: "an address told when the link is used",
		patch: func(d jsonDoc) {
			d.addProperty("ShareLinkObject", "notify_email", ref("AuthN-Email"))
			d.addProperty("ShareLinkCreateItem", "notify_email", ref("AuthN-Email"))
		}},
	{group: extension, what: "`notify` on links and on `share/link/create` and `share/link/update`",
		why:    "owner notifications: the link's owner is emailed a digest of each session's uploads, the first download, a lock and a spent cap; `events` without `email` is refused until the link has a `sender_email`",
		refuse: []string{"share/link/create /links/0/notify/events"},
		patch: func(d jsonDoc) {
			events := arrayOf(map[string]any{"type": "string", "enum": []any{"upload", "download", "locked", "exhausted"}})
			notify := func() map[string]any {
				return map[string]any{"type": "object", "properties": map[string]any{"events": events, "email": ref("AuthN-Email"), "language": str()}}
			}
			d.addProperty("ShareLinkObject", "notify", notify())
			d.addProperty("ShareLinkCreateItem", "notify", notify())
		}},
	{group: extension, what: "`failed_attempts` and `locked_until` on link authenticators",
		why: "consecutive failed sign-ins and the end of a lock in force, so that an app can see and lift a lock (`share/link/update`)",
		patch: func(d jsonDoc) {
			d.schemas()["AuthenticatorView"] = deepCopy(d.schema("AuthenticatorInfo"))
			d.addProperty("AuthenticatorView", "failed_attempts", integer())
			d.addProperty("AuthenticatorView", "locked_until", ref("DateTime"))
			d.property("ShareLinkObject", "authenticators")["items"] = ref("AuthenticatorView")
		}},
	{group: extension, what: "`language` on each link of `share/link/send` and in `send_params`",
		why: "the language (a BCP 47 tag) of the email sent to the recipient",
		patch: func(d jsonDoc) {
			d.addProperty("ShareLinkSendItem", "language", str())
			d.addProperty("SendParams", "language", str())
		}},
	{group: extension, what: "`config_id` in every request body",
		why:   "SDK clients built with a configuration id add it to every body; sesame has one configuration and ignores it",
		patch: func(d jsonDoc) { d.addToEveryRequest("config_id", str()) }},
	{group: extension, what: "`share/link/update`, `audit/list` and `notifications/list` on `/v1` and `/v1beta`",
		why: "changing a link after it is made, and reading the audit trail and the outbox, in the same envelope"},
	{group: extension, what: "request forms beyond the document: `/v1` and `/v1beta` both take `path` and `folder`; the link filters also take `notify_email`, `bucket_id` and the aliases `target` and `storage_pool_id`; `share/link/list` also orders by `storage_pool_id`, and by `name`, `parent_id`, `type` and `updated_at` (as `created_at`); `transfer_method: direct` means `post-url`",
		why: "older SDK releases, the Python SDK and the Node SDK's types send them, and the reference lists them to accept"},
	{group: extension, what: "the `Idempotency-Key` header on `folder/create`, `put`, `share/link/create` and `share/link/send`",
		why: "a retry with the same key and body gets the first reply again, so that a create is not repeated"},
	{group: extension, what: "`GET`/`HEAD /dl/{secret}`, `POST`/`PUT /upload/{secret}` and `/mcp`",
		why: "the download and upload URLs that `dest_url`, `post_url` and `put_url` name, and the MCP endpoint"},

	// Differences.
	{group: difference, what: "folders have `type: \"folder\"`",
		why:   "the document's enum says `dir`, but the live service returns `folder` and every SDK's tests expect it (reference §0.6)",
		patch: func(d jsonDoc) { d.setEnum(d.property("Object", "type"), "file", "folder") }},
	{group: difference, what: "objects in the root folder have `parent_id: \"\"`",
		why:   "the description says a blank parent_id means the root folder, but the `ID` schema it points at needs 36 characters",
		patch: func(d jsonDoc) { d.setProperty("Object", "parent_id", ref("IDParent")) }},
	{group: difference, what: "error replies carry the status the SDKs know (`ValidationError`, `NotFound`, `Unauthorized`, …)",
		why:   "the document's envelope allows only `Success`, yet the SDKs pick their error class by these strings (reference §2.4); a 403 says `Unauthorized`",
		patch: func(d jsonDoc) { d.errorEnvelope(sdkErrorStatuses) }},
	{group: difference, what: "error replies use the HTTP status that fits: 401, 403, 404, 409, 413, 422, 429",
		why:   "the document lists only 400; the SDKs decide by `status`, and these codes tell proxies and logs what happened",
		patch: func(d jsonDoc) { d.errorResponses(errorStatuses) }},
	{group: difference, what: "`put` with `post-url` or `put-url` in a JSON body answers 202 `Accepted` with `put_url`, or `post_url` and `post_form_data`, and so does `GET /request/{id}` while it waits",
		why:   "the document gives `put` no 202 reply, leaves out the upload URL and gives the 202 envelope the status `Success`; the SDKs need all three to upload and poll (reference §2.6)",
		patch: func(d jsonDoc) { d.acceptedReplies() }},
	{group: difference, what: "a multipart `get` or `get_archive` reply starts with the whole envelope",
		why:   "the document's `json` part is the bare result, but the live service sends the envelope and the SDKs read it (reference §2.7)",
		patch: func(d jsonDoc) { d.multipartEnvelopes() }},
	{group: difference, what: "`send_params` has `recipient_email` and `sender_email` (required) and `sender_name`",
		why:   "the document lists them beside `properties`, where JSON Schema ignores them; a link cannot be sent without both addresses",
		patch: func(d jsonDoc) { d.sendParams() }},
	{group: difference, what: "`filter.link__contains` on `share/link/list` is refused",
		why:    "a link's URL holds its secret, which sesame keeps only sealed and as a MAC, so no part of it can be searched; `link` and `link__in` with whole URLs work",
		refuse: []string{"share/link/list /filter/link__contains"}},
	{group: difference, what: "`put` with a JSON body needs `transfer_method` `post-url` or `put-url`",
		why:    "a JSON body carries no file; `multipart` (the default) needs a multipart body",
		refuse: []string{"put (json) /transfer_method=multipart"}},
	{group: difference, what: "`transfer_method: source-url` is refused",
		why:    "the server would fetch any URL a token names, inside the network it runs in",
		refuse: []string{"put /transfer_method=source-url", "put (json) /transfer_method=source-url"}},
	{group: difference, what: "`/v1beta/config`, `/v1beta/config/create`, `/v1beta/config/update` and `/v1beta/config/delete` answer 404 `NotFound`",
		why: "they manage the hosted service's project settings; sesame is configured by its own file",
		patch: func(d jsonDoc) {
			d.notServed("/v1beta/config", "/v1beta/config/create", "/v1beta/config/update", "/v1beta/config/delete")
		}},

	{group: difference, what: "`password_algorithm` without `password` on `put`, and `add_password_algorithm` without `add_password` on `update`, are refused (`IsDependentOn`)",
		why:    "an algorithm alone protects nothing; refusing it tells the caller the password was left out instead of storing the file in the clear",
		refuse: []string{"put /password_algorithm", "put (json) /password_algorithm", "update /add_password_algorithm"}},
	{group: difference, what: "`auth_type: social` is refused (`ProviderDisabled`) while no OpenID Connect provider is configured, as on the test's server",
		why:    "a social authenticator can only sign in through a provider the server trusts (oidc.providers); with one configured it is accepted",
		refuse: []string{"share/link/create /links/0/authenticators/0/auth_type=social"}},
}
