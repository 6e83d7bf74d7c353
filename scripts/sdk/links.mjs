// SDK conformance test for the share-link methods of ShareService
// (shareLinkCreate, shareLinkGet, shareLinkList, shareLinkDelete) plus the
// Idempotency-Key header on POST /v1/share/link/create (plain fetch, since the
// SDK cannot set custom headers).
//
// Run:   SESAME_URL=http://127.0.0.1:18080 SESAME_TOKEN=... node --test scripts/sdk/links.mjs
// Usual: scripts/sdk-test.sh (builds, starts and stops a throwaway server).
//
// Tests run in file order and share state. A test whose prerequisite failed is
// reported as skipped ("needs ...") so that only the real failure is counted.
// Everything this file creates lives below /sdk-links/<ts> and carries the run
// tag RUN, so it never collides with conformance.mjs (which uses /sdk/<ts>).

import test from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { createRequire } from "node:module";

import { PangeaConfig, PangeaErrors, Share, ShareService, TransferMethod } from "pangea-node-sdk";

const require = createRequire(import.meta.url);
const SDK_VERSION = require("pangea-node-sdk/package.json").version;

const BASE_URL = (process.env.SESAME_URL ?? "").replace(/\/+$/, "");
const TOKEN = process.env.SESAME_TOKEN ?? "";
const TEST_TIMEOUT = Number(process.env.SESAME_TEST_TIMEOUT_MS ?? 60_000);

const share =
  BASE_URL && TOKEN ? new ShareService(TOKEN, new PangeaConfig({ baseUrlTemplate: BASE_URL, requestRetries: 1 })) : null;

// ---------------------------------------------------------------------------------------------
// helpers

const TS = String(Date.now());
const RUN = `sdkrun-${TS}-${crypto.randomBytes(3).toString("hex")}`; // unique tag for this run's links
const BAD = `${RUN}-bad`; // tag on every create that must be rejected
const BASE_PATH = `/sdk-links/${TS}`;
const LINK_ID_RE = /^psl_[a-z2-7]{32}$/;
const BUCKET_ID_RE = /^pro_[a-z2-7]{32}$/;
const REQUEST_ID_RE = /^prq_[a-z2-7]{32}$/;
const UNKNOWN_OBJECT_ID = "pos_" + "a".repeat(32);
const DAY = 24 * 3600 * 1000;
const PASSWORD = "Corr3ct-Horse-Battery!"; // 22 chars: valid as the only authenticator
const EMAIL = "alice@example.com";
const PHONE = "+14155550123";
// Ordinary prose: the Node reviver re-parses `message` strings that are valid JSON (§8.7).
const MESSAGE = "Here are the files we talked about. The password arrives separately.";

/** Shared state between tests. */
const S = {};
/** Every live link this run created: id -> the object create returned (the source of truth). */
const model = new Map();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ids = (links) => links.map((l) => l.id);
const sortedIds = (links) => ids(links).sort();

function describeErr(err) {
  if (err instanceof PangeaErrors.APIError) {
    const r = err.pangeaResponse;
    return `${err.constructor.name} status=${r?.status} http=${r?.gotResponse?.status} summary=${JSON.stringify(
      err.summary,
    )} errors=${JSON.stringify(err.errors)}`;
  }
  return String(err?.stack ?? err);
}

/** Define a test that is skipped when a state key it needs was not produced. */
function T(name, needs, fn) {
  test(name, { timeout: TEST_TIMEOUT }, async (t) => {
    if (!share) {
      t.skip("SESAME_URL / SESAME_TOKEN not set");
      return;
    }
    const missing = needs.filter((k) => S[k] === undefined);
    if (missing.length) {
      t.skip(`needs ${missing.join(", ")} (an earlier test failed)`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      if (err instanceof PangeaErrors.APIError) {
        const e = new Error(`unexpected API error: ${describeErr(err)}`);
        e.cause = err;
        throw e;
      }
      throw err;
    }
  });
}

/** Await a promise that must reject with `cls`; returns the error. */
async function rejectsWith(promise, cls, what) {
  let err;
  try {
    const resp = await promise;
    assert.fail(`${what}: expected ${cls.name}, but the call succeeded with status ${resp?.status}: ${JSON.stringify(resp?.result)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${describeErr(err)}`);
  const http = err.pangeaResponse?.gotResponse?.status;
  assert.ok(http >= 400 && http < 500, `${what}: expected an HTTP 4xx, got ${http} (${describeErr(err)})`);
  assert.ok(Array.isArray(err.errors) && err.errors.length > 0, `${what}: result.errors must be non-empty: ${describeErr(err)}`);
  for (const e of err.errors) {
    assert.equal(typeof e.code, "string", `error item code: ${JSON.stringify(e)}`);
    assert.equal(typeof e.detail, "string", `error item detail: ${JSON.stringify(e)}`);
    assert.equal(typeof e.source, "string", `error item source: ${JSON.stringify(e)}`);
  }
  return err;
}

function checkEnvelope(resp) {
  assert.equal(resp.status, "Success");
  assert.match(resp.request_id, REQUEST_ID_RE, "request_id");
  assert.equal(typeof resp.summary, "string", "summary");
}

function checkDate(v, what) {
  assert.equal(typeof v, "string", `${what} must be a string`);
  assert.match(v, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, `${what} must be RFC 3339: ${v}`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} must parse: ${v}`);
}

const inDays = (d) => new Date(Date.now() + d * DAY).toISOString();

/** The same instant as `iso`, written with a UTC offset of `offMin` minutes (fraction digits kept). */
function withOffset(iso, offMin) {
  const m = iso.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  assert.ok(m, `withOffset: not an RFC 3339 time: ${iso}`);
  const wholeSeconds = Date.parse(m[1] + m[3]);
  const local = new Date(wholeSeconds + offMin * 60_000).toISOString().slice(0, 19);
  const a = Math.abs(offMin);
  const off = `${offMin < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
  const out = local + (m[2] ?? "") + off;
  assert.equal(Date.parse(out), Date.parse(iso), `withOffset(${iso}) = ${out} is another instant`);
  return out;
}

/**
 * Check one returned link object against the create item it came from.
 * `item` is the request item (targets, link_type, authenticators, ...).
 */
function checkLink(l, item, what) {
  assert.ok(l && typeof l === "object", `${what}: link object missing`);
  assert.match(l.id, LINK_ID_RE, `${what}: id`);
  assert.match(l.bucket_id, BUCKET_ID_RE, `${what}: bucket_id`);
  if (S.bucketId) assert.equal(l.bucket_id, S.bucketId, `${what}: bucket_id is the default bucket`);
  assert.deepEqual(l.targets, item.targets, `${what}: targets echoed in order`);
  assert.equal(l.link_type, item.link_type, `${what}: link_type`);
  assert.equal(l.access_count, 0, `${what}: access_count 0 on creation`);
  assert.equal(l.max_access_count, item.max_access_count, `${what}: max_access_count echoed`);
  checkDate(l.created_at, `${what}: created_at`);
  const created = Date.parse(l.created_at);
  assert.ok(Math.abs(created - Date.now()) < 5 * 60_000, `${what}: created_at ${l.created_at} is not about now`);
  checkDate(l.expires_at, `${what}: expires_at`);
  assert.equal(Date.parse(l.expires_at), Date.parse(item.expires_at), `${what}: expires_at ${l.expires_at} is not the instant sent (${item.expires_at})`);
  assert.equal(l.last_accessed_at, undefined, `${what}: last_accessed_at must be absent before the first access`);
  assert.equal(typeof l.link, "string", `${what}: link`);
  let url;
  assert.doesNotThrow(() => (url = new URL(l.link)), `${what}: link must be an absolute URL: ${l.link}`);
  assert.match(url.protocol, /^https?:$/, `${what}: link scheme`);
  assert.ok(url.pathname.includes("/s/"), `${what}: link ${l.link} must contain /s/`);
  assert.ok(Array.isArray(l.authenticators), `${what}: authenticators`);
  assert.equal(l.authenticators.length, item.authenticators.length, `${what}: one authenticator out per authenticator in`);
  item.authenticators.forEach((a, i) => {
    const want = a.auth_type === "password" ? "********" : a.auth_context;
    assert.deepEqual(
      { auth_type: l.authenticators[i].auth_type, auth_context: l.authenticators[i].auth_context },
      { auth_type: a.auth_type, auth_context: want },
      `${what}: authenticators[${i}]`,
    );
    assert.deepEqual(Object.keys(l.authenticators[i]).sort(), ["auth_context", "auth_type"], `${what}: authenticators[${i}] keys`);
  });
  assert.equal(l.title, item.title, `${what}: title`);
  assert.equal(l.message, item.message, `${what}: message (prose, must stay a string)`);
  assert.deepEqual(l.tags, item.tags, `${what}: tags echoed in order`);
}

/** A valid create item; `over` replaces fields. */
function item(over = {}) {
  return {
    targets: [S.file.id],
    link_type: Share.LinkType.DOWNLOAD,
    authenticators: [{ auth_type: Share.AuthenticatorType.PASSWORD, auth_context: PASSWORD }],
    title: `${RUN} item`,
    message: MESSAGE,
    tags: [RUN],
    max_access_count: 5,
    expires_at: inDays(3),
    ...over,
  };
}

/** shareLinkList restricted to this run (filter.tags += RUN); returns the result. */
async function listRun(filter = {}, extra = {}) {
  const resp = await share.shareLinkList({ filter: { ...filter, tags: [RUN, ...(filter.tags ?? [])] }, size: 100, ...extra });
  checkEnvelope(resp);
  const r = resp.result;
  assert.ok(Array.isArray(r.share_link_objects), "share_link_objects must be an array");
  assert.equal(typeof r.count, "number", "count must be a number");
  return r;
}

/** Every listed object equals what create returned, no duplicates, count == number of matches. */
function checkListed(r, want, what) {
  const got = r.share_link_objects;
  assert.equal(new Set(ids(got)).size, got.length, `${what}: duplicates in ${JSON.stringify(ids(got))}`);
  assert.deepEqual(sortedIds(got), sortedIds(want), `${what}: listed ids`);
  assert.equal(r.count, want.length, `${what}: count`);
  for (const l of got) assert.deepStrictEqual(l, model.get(l.id), `${what}: listed ${l.id} differs from what create returned`);
}

const live = () => [...model.values()];

// ---------------------------------------------------------------------------------------------
// 0. setup: a folder with a file and a sub folder to share

test("environment: SESAME_URL and SESAME_TOKEN are set, SDK is 5.6.0", () => {
  assert.ok(BASE_URL, "SESAME_URL is not set");
  assert.ok(TOKEN, "SESAME_TOKEN is not set");
  assert.equal(SDK_VERSION, "5.6.0");
});

T("setup: default bucket, folder and file to share", [], async () => {
  const b = await share.buckets();
  const def = b.result.buckets.filter((x) => x.default);
  assert.equal(def.length, 1, "exactly one default bucket");
  S.bucketId = def[0].id;
  const base = (await share.folderCreate({ folder: BASE_PATH })).result.object;
  assert.equal(base.type, "folder");
  const folder = (await share.folderCreate({ name: "shared", parent_id: base.id })).result.object;
  assert.equal(folder.type, "folder");
  const file = (
    await share.put(
      { parent_id: base.id, name: "report.txt", transfer_method: TransferMethod.MULTIPART },
      { file: Buffer.from("quarterly report\n"), name: "report.txt" },
    )
  ).result.object;
  assert.equal(file.type, "file");
  S.base = base;
  S.folder = folder;
  S.file = file;
});

// ---------------------------------------------------------------------------------------------
// 1. shareLinkCreate

T("shareLinkCreate: one link per item, in request order, every field as sent", ["file", "folder"], async () => {
  const exp = inDays(3);
  const items = [
    item({
      targets: [S.file.id],
      link_type: Share.LinkType.DOWNLOAD,
      authenticators: [{ auth_type: Share.AuthenticatorType.PASSWORD, auth_context: PASSWORD }],
      title: `${RUN} alpha download file`,
      tags: [RUN, "kind-download", "target-file"],
      expires_at: exp,
    }),
    item({
      targets: [S.folder.id],
      link_type: Share.LinkType.DOWNLOAD,
      authenticators: [{ auth_type: Share.AuthenticatorType.EMAIL_OTP, auth_context: EMAIL }],
      title: `${RUN} bravo download folder`,
      tags: [RUN, "kind-download", "target-folder"],
      expires_at: withOffset(exp, -7 * 60), // same instant, written as -07:00
    }),
    item({
      targets: [S.folder.id],
      link_type: Share.LinkType.UPLOAD,
      authenticators: [{ auth_type: Share.AuthenticatorType.SMS_OTP, auth_context: PHONE }],
      title: `${RUN} charlie upload folder`,
      tags: [RUN, "kind-upload", "target-folder"],
      expires_at: exp,
    }),
    item({
      targets: [S.file.id],
      link_type: Share.LinkType.EDITOR,
      authenticators: [
        { auth_type: Share.AuthenticatorType.PASSWORD, auth_context: PASSWORD },
        { auth_type: Share.AuthenticatorType.EMAIL_OTP, auth_context: EMAIL },
        { auth_type: Share.AuthenticatorType.SMS_OTP, auth_context: PHONE },
      ],
      title: `${RUN} delta editor file`,
      tags: [RUN, "kind-editor", "target-file"],
      expires_at: exp,
    }),
  ];
  const resp = await share.shareLinkCreate({ links: items });
  checkEnvelope(resp);
  const out = resp.result.share_link_objects;
  assert.ok(Array.isArray(out), "share_link_objects must be an array");
  assert.equal(out.length, items.length, "one link object per item");
  out.forEach((l, i) => checkLink(l, items[i], `links[${i}] (${items[i].link_type})`));
  assert.equal(new Set(ids(out)).size, out.length, "distinct ids");
  assert.equal(new Set(out.map((l) => l.link)).size, out.length, "distinct link URLs");
  for (const l of out) model.set(l.id, l);
  S.batchA = out;
  S.items = items;
});

// ---------------------------------------------------------------------------------------------
// 2. validation errors (each with the run's BAD tag, so we can check nothing was stored)

async function badCreate(over, cls, what) {
  return rejectsWith(share.shareLinkCreate({ links: [item({ tags: [RUN, BAD], ...over })] }), cls, what);
}

T("shareLinkCreate: a 10-char password alone is BelowMinLength at /links/0/authenticators/0/auth_context", ["file"], async () => {
  const err = await badCreate(
    { authenticators: [{ auth_type: Share.AuthenticatorType.PASSWORD, auth_context: "Sh0rt-pass" }] },
    PangeaErrors.ValidationError,
    "10-char password",
  );
  assert.equal(err.errors[0].source, "/links/0/authenticators/0/auth_context", describeErr(err));
  assert.equal(err.errors[0].code, "BelowMinLength", describeErr(err));
});

T("shareLinkCreate: an upload link to a file is a ValidationError at /links/0/targets/0", ["file"], async () => {
  const err = await badCreate({ link_type: Share.LinkType.UPLOAD, targets: [S.file.id] }, PangeaErrors.ValidationError, "upload to a file");
  assert.equal(err.errors[0].source, "/links/0/targets/0", describeErr(err));
});

T("shareLinkCreate: an unknown target id is NotFound at /links/0/targets/0", ["file"], async () => {
  const err = await badCreate({ targets: [UNKNOWN_OBJECT_ID] }, PangeaErrors.NotFound, "unknown target");
  assert.equal(err.pangeaResponse.status, "NotFound", describeErr(err));
  assert.equal(err.errors[0].source, "/links/0/targets/0", describeErr(err));
});

T("shareLinkCreate: a bad email_otp address is a ValidationError at /links/0/authenticators/0/auth_context", ["file"], async () => {
  const err = await badCreate(
    { authenticators: [{ auth_type: Share.AuthenticatorType.EMAIL_OTP, auth_context: "not an email" }] },
    PangeaErrors.ValidationError,
    "bad email",
  );
  assert.equal(err.errors[0].source, "/links/0/authenticators/0/auth_context", describeErr(err));
  assert.ok(["BadFormatEmail", "DoesNotMatchPattern"].includes(err.errors[0].code), `code: ${describeErr(err)}`);
});

T("shareLinkCreate: expires_at in the past is NotWithinRange at /links/0/expires_at", ["file"], async () => {
  const err = await badCreate({ expires_at: inDays(-1) }, PangeaErrors.ValidationError, "past expires_at");
  assert.equal(err.errors[0].source, "/links/0/expires_at", describeErr(err));
  assert.equal(err.errors[0].code, "NotWithinRange", describeErr(err));
});

T("shareLinkCreate: an error in the second item points at /links/1 and stores nothing", ["file"], async () => {
  const err = await rejectsWith(
    share.shareLinkCreate({ links: [item({ tags: [RUN, BAD] }), item({ tags: [RUN, BAD], targets: [UNKNOWN_OBJECT_ID] })] }),
    PangeaErrors.NotFound,
    "second item bad",
  );
  assert.equal(err.errors[0].source, "/links/1/targets/0", describeErr(err));
});

T("shareLinkCreate: rejected creates left no link behind", ["file"], async () => {
  const r = await listRun({ tags: [BAD] });
  assert.equal(r.count, 0, `links stored by rejected creates: ${JSON.stringify(ids(r.share_link_objects))}`);
  assert.equal(r.share_link_objects.length, 0);
});

// ---------------------------------------------------------------------------------------------
// 3. shareLinkGet

T("shareLinkGet: returns exactly what create returned, for every link type", ["batchA"], async () => {
  for (const l of S.batchA) {
    const resp = await share.shareLinkGet({ id: l.id });
    checkEnvelope(resp);
    assert.deepStrictEqual(resp.result.share_link_object, l, `get ${l.id} (${l.link_type})`);
  }
});

T("shareLinkGet: an unknown link id is NotFound", [], async () => {
  const err = await rejectsWith(share.shareLinkGet({ id: "psl_" + "a".repeat(32) }), PangeaErrors.NotFound, "get unknown link");
  assert.equal(err.pangeaResponse.status, "NotFound");
});

// ---------------------------------------------------------------------------------------------
// 4. shareLinkList (a second batch, created later, with other expiries and titles)

T("shareLinkCreate: second batch for list tests (later created_at, other expiries)", ["batchA"], async () => {
  await sleep(50); // created_at of batch B is strictly after batch A
  const items = [
    item({ title: `${RUN} echo download`, expires_at: inDays(5), tags: [RUN, "kind-download", "target-file", "batch-b"] }),
    item({
      title: `${RUN} foxtrot upload`,
      link_type: Share.LinkType.UPLOAD,
      targets: [S.folder.id],
      expires_at: inDays(1),
      tags: [RUN, "kind-upload", "target-folder", "batch-b"],
    }),
    item({
      title: `${RUN} golf editor`,
      link_type: Share.LinkType.EDITOR,
      targets: [S.folder.id, S.file.id],
      expires_at: inDays(2),
      tags: [RUN, "kind-editor", "batch-b"],
    }),
  ];
  const out = (await share.shareLinkCreate({ links: items })).result.share_link_objects;
  assert.equal(out.length, items.length);
  out.forEach((l, i) => checkLink(l, items[i], `batch B links[${i}]`));
  for (const l of out) model.set(l.id, l);
  S.batchB = out;
});

T("shareLinkList: filter tags (run tag) lists exactly this run's links", ["batchB"], async () => {
  checkListed(await listRun(), live(), "tags [RUN]");
  checkListed(await listRun({ tags: ["batch-b"] }), S.batchB, "tags [RUN, batch-b]");
  checkListed(await listRun({ tags: ["kind-upload", "target-folder"] }), live().filter((l) => l.link_type === "upload"), "tags AND");
  checkListed(await listRun({ tags: ["kind-upload", "no-such-tag"] }), [], "tags with a missing tag");
});

T("shareLinkList: filter target_id matches links with that target anywhere in targets", ["batchB"], async () => {
  checkListed(await listRun({ target_id: S.file.id }), live().filter((l) => l.targets.includes(S.file.id)), "target_id file");
  checkListed(await listRun({ target_id: S.folder.id }), live().filter((l) => l.targets.includes(S.folder.id)), "target_id folder");
  checkListed(await listRun({ target_id: UNKNOWN_OBJECT_ID }), [], "target_id unknown");
});

T("shareLinkList: filter link_type", ["batchB"], async () => {
  for (const t of ["download", "upload", "editor"]) {
    checkListed(await listRun({ link_type: t }), live().filter((l) => l.link_type === t), `link_type ${t}`);
  }
});

T("shareLinkList: filter link_type__in", ["batchB"], async () => {
  checkListed(
    await listRun({ link_type__in: ["download", "editor"] }),
    live().filter((l) => l.link_type !== "upload"),
    "link_type__in [download, editor]",
  );
  checkListed(await listRun({ link_type__in: ["upload"] }), live().filter((l) => l.link_type === "upload"), "link_type__in [upload]");
});

T("shareLinkList: filter title__contains (every substring must occur)", ["batchB"], async () => {
  checkListed(await listRun({ title__contains: ["download"] }), live().filter((l) => l.title.includes("download")), "title__contains [download]");
  checkListed(
    await listRun({ title__contains: ["download", "folder"] }),
    live().filter((l) => l.title.includes("download") && l.title.includes("folder")),
    "title__contains [download, folder]",
  );
  checkListed(await listRun({ title__contains: ["download", "upload"] }), [], "title__contains [download, upload]");
});

T("shareLinkList: filter created_at__gt compares instants", ["batchB"], async () => {
  const threshold = S.batchA.map((l) => l.created_at).sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1);
  const want = live().filter((l) => Date.parse(l.created_at) > Date.parse(threshold));
  assert.deepEqual(sortedIds(want), sortedIds(S.batchB), "precondition: batch B is later than batch A");
  checkListed(await listRun({ created_at__gt: threshold }), want, `created_at__gt ${threshold}`);
  // the same instant with another UTC offset must give the same answer (instants, not strings)
  for (const off of [5 * 60 + 30, -8 * 60]) {
    const t = withOffset(threshold, off);
    checkListed(await listRun({ created_at__gt: t }), want, `created_at__gt ${t}`);
  }
  checkListed(await listRun({ created_at__gt: "2000-01-01T00:00:00Z" }), live(), "created_at__gt 2000");
});

T("shareLinkList: filter access_count__lt given as a string (Go SDK style)", ["batchB"], async () => {
  checkListed(await listRun({ access_count__lt: "5" }), live(), 'access_count__lt "5"');
  checkListed(await listRun({ access_count__gt: "0" }), [], 'access_count__gt "0"');
  checkListed(await listRun({ access_count__lt: 5 }), live(), "access_count__lt 5 (number)");
});

const ORDER_KEYS = {
  created_at: (l) => Date.parse(l.created_at),
  expires_at: (l) => Date.parse(l.expires_at),
  title: (l) => l.title,
  access_count: (l) => l.access_count,
};

function assertOrdered(links, by, order, what) {
  const key = ORDER_KEYS[by];
  for (let i = 1; i < links.length; i++) {
    const a = key(links[i - 1]);
    const b = key(links[i]);
    const ok = order === "asc" ? a <= b : a >= b;
    assert.ok(ok, `${what}: not ${order} by ${by} at ${i}: ${JSON.stringify(a)} then ${JSON.stringify(b)} (${JSON.stringify(links.map(key))})`);
  }
}

for (const by of Object.keys(ORDER_KEYS)) {
  T(`shareLinkList: order asc/desc, order_by ${by}`, ["batchB"], async () => {
    const seqs = {};
    for (const order of ["asc", "desc"]) {
      const r = await listRun({}, { order, order_by: by });
      checkListed(r, live(), `${order} ${by}`);
      assertOrdered(r.share_link_objects, by, order, `${order} ${by}`);
      seqs[order] = r.share_link_objects.map(ORDER_KEYS[by]);
    }
    if (by === "title" || by === "expires_at") {
      // keys are distinct enough here that desc must be the exact reverse of asc
      assert.deepEqual(seqs.desc, [...seqs.asc].reverse(), `desc is asc reversed for ${by}`);
    }
  });
}

T('shareLinkList: order_by "name" (Node types offer it) falls back without error', ["batchB"], async () => {
  for (const order of ["asc", "desc"]) {
    const r = await listRun({}, { order, order_by: "name" });
    checkListed(r, live(), `order_by name ${order}`);
  }
});

async function pageAll(order, orderBy) {
  const seen = [];
  let last;
  let pages = 0;
  do {
    const resp = await share.shareLinkList({ filter: { tags: [RUN] }, size: 2, order, order_by: orderBy, ...(last ? { last } : {}) });
    checkEnvelope(resp);
    const r = resp.result;
    pages++;
    assert.ok(pages <= 20, "too many pages");
    assert.ok(r.share_link_objects.length <= 2, `page ${pages} has ${r.share_link_objects.length} items (size 2)`);
    assert.equal(r.count, model.size, `page ${pages}: count is the number of matches, not the page size`);
    seen.push(...r.share_link_objects);
    if (r.last !== undefined) {
      assert.equal(typeof r.last, "string", "last is a string cursor");
      assert.ok(r.last.length > 0, "last must not be empty");
      assert.equal(r.share_link_objects.length, 2, `page ${pages} is not full but has a cursor`);
    }
    last = r.last;
  } while (last);
  return { seen, pages };
}

T("shareLinkList: paging with size 2 and last visits every link once", ["batchB"], async () => {
  const { seen, pages } = await pageAll("asc", "created_at");
  assert.equal(new Set(ids(seen)).size, seen.length, `duplicates across pages: ${JSON.stringify(ids(seen))}`);
  assert.deepEqual(sortedIds(seen), sortedIds(live()), "all links of the run");
  assert.ok(pages >= Math.ceil(model.size / 2), `pages ${pages}`);
  assertOrdered(seen, "created_at", "asc", "paged created_at asc");
  for (const l of seen) assert.deepStrictEqual(l, model.get(l.id), `paged ${l.id}`);
});

T("shareLinkList: paging with size 2 keeps the order across pages (title desc)", ["batchB"], async () => {
  const { seen } = await pageAll("desc", "title");
  assert.equal(new Set(ids(seen)).size, seen.length, `duplicates across pages: ${JSON.stringify(ids(seen))}`);
  assert.deepEqual(sortedIds(seen), sortedIds(live()), "all links of the run");
  assert.deepEqual(
    seen.map((l) => l.title),
    live()
      .map((l) => l.title)
      .sort()
      .reverse(),
    "titles in desc order over all pages",
  );
});

// ---------------------------------------------------------------------------------------------
// 5. shareLinkDelete

T("shareLinkDelete: returns the deleted link objects", ["batchB"], async () => {
  const victims = [S.batchB[0], S.batchA[1]];
  const resp = await share.shareLinkDelete({ ids: ids(victims) });
  checkEnvelope(resp);
  const out = resp.result.share_link_objects;
  assert.ok(Array.isArray(out), "share_link_objects must be an array");
  assert.deepStrictEqual([...out].sort(byId), [...victims].sort(byId), "deleted objects equal what create returned");
  for (const l of victims) model.delete(l.id);
  S.deleted = victims;
});

T("shareLinkDelete: a deleted link is NotFound on get", ["deleted"], async () => {
  for (const l of S.deleted) {
    const err = await rejectsWith(share.shareLinkGet({ id: l.id }), PangeaErrors.NotFound, `get deleted ${l.id}`);
    assert.equal(err.pangeaResponse.status, "NotFound");
  }
});

T("shareLinkDelete: a deleted link is no longer listed", ["deleted"], async () => {
  const r = await listRun();
  checkListed(r, live(), "list after delete");
  for (const l of S.deleted) assert.ok(!ids(r.share_link_objects).includes(l.id), `${l.id} still listed`);
  checkListed(await listRun({ target_id: S.folder.id }), live().filter((l) => l.targets.includes(S.folder.id)), "target_id after delete");
});

T("shareLinkDelete: deleting again is NotFound", ["deleted"], async () => {
  const err = await rejectsWith(share.shareLinkDelete({ ids: [S.deleted[0].id] }), PangeaErrors.NotFound, "delete twice");
  assert.equal(err.pangeaResponse.status, "NotFound");
});

// ---------------------------------------------------------------------------------------------
// 6. Idempotency-Key on share/link/create (plain fetch)

async function idemPost(key, body) {
  const res = await fetch(`${BASE_URL}/v1/share/link/create`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", "Idempotency-Key": key },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    assert.fail(`HTTP ${res.status} body is not JSON: ${text.slice(0, 200)}`);
  }
  return { res, json };
}

T("Idempotency-Key: same key and body replays the same link; another body with the key is 422", ["file"], async () => {
  const key = `sdk-links-${TS}-${crypto.randomBytes(8).toString("hex")}`;
  const idemTag = `${RUN}-idem`;
  const body = { links: [item({ title: `${RUN} idempotent`, tags: [RUN, idemTag] })] };

  const first = await idemPost(key, body);
  assert.equal(first.res.status, 200, `first: HTTP ${first.res.status} ${JSON.stringify(first.json)}`);
  assert.equal(first.json.status, "Success");
  assert.notEqual(first.res.headers.get("idempotent-replayed"), "true", "first call is not a replay");
  const link = first.json.result.share_link_objects?.[0];
  checkLink(link, body.links[0], "idempotent create");
  model.set(link.id, link);

  const second = await idemPost(key, body);
  assert.equal(second.res.status, 200, `second: HTTP ${second.res.status} ${JSON.stringify(second.json)}`);
  assert.equal(second.json.status, "Success");
  assert.equal(second.res.headers.get("idempotent-replayed"), "true", "Idempotent-Replayed header on the replay");
  assert.equal(second.json.result.share_link_objects.length, 1);
  assert.equal(second.json.result.share_link_objects[0].id, link.id, "replay returns the same link id");
  assert.deepStrictEqual(second.json.result.share_link_objects[0], link, "replay returns the same link object");

  const other = { links: [item({ title: `${RUN} idempotent other`, tags: [RUN, idemTag] })] };
  const third = await idemPost(key, other);
  assert.equal(third.res.status, 422, `different body, same key: HTTP ${third.res.status} ${JSON.stringify(third.json)}`);
  assert.notEqual(third.json.status, "Success");
  assert.deepEqual(Object.keys(third.json).sort(), ["request_id", "request_time", "response_time", "result", "status", "summary"]);

  const r = await listRun({ tags: [idemTag] });
  checkListed(r, [link], "exactly one link stored for the key");
});

// ---------------------------------------------------------------------------------------------
// 7. cleanup

T("cleanup: delete the remaining links of this run", [], async () => {
  if (model.size === 0) return;
  const want = live();
  const resp = await share.shareLinkDelete({ ids: ids(want) });
  assert.deepEqual(sortedIds(resp.result.share_link_objects), sortedIds(want));
  model.clear();
  const r = await listRun();
  assert.equal(r.count, 0, `links left: ${JSON.stringify(ids(r.share_link_objects))}`);
});

T("cleanup: delete the test folder", ["base"], async () => {
  const resp = await share.delete({ id: S.base.id, force: true });
  assert.equal(resp.result.count, 3);
});
