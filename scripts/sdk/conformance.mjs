// SDK conformance test: drives a running sesame server with the official
// pangea-node-sdk (pinned to 5.6.0 in package-lock.json) and checks every
// object-store method of ShareService against the Pangea Secure Share API.
//
// Run:   SESAME_URL=http://127.0.0.1:18080 SESAME_TOKEN=... node --test scripts/sdk/conformance.mjs
// Usual: scripts/sdk-test.sh (builds, starts and stops a throwaway server).
//
// Tests run in file order and share state. A test whose prerequisite failed is
// reported as skipped ("needs ...") so that only the real failure is counted.

import test from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import zlib from "node:zlib";
import { createRequire } from "node:module";

import {
  FileUploader,
  PangeaConfig,
  PangeaErrors,
  Share,
  ShareService,
  TransferMethod,
  getFileUploadParams,
} from "pangea-node-sdk";

const require = createRequire(import.meta.url);
const SDK_VERSION = require("pangea-node-sdk/package.json").version;

const BASE_URL = (process.env.SESAME_URL ?? "").replace(/\/+$/, "");
const TOKEN = process.env.SESAME_TOKEN ?? "";
const TEST_TIMEOUT = Number(process.env.SESAME_TEST_TIMEOUT_MS ?? 60_000);

const share =
  BASE_URL && TOKEN
    ? new ShareService(
        TOKEN,
        new PangeaConfig({
          baseUrlTemplate: BASE_URL,
          requestRetries: 1,
          // SDK default is 120 s; a broken async flow should fail faster than that.
          pollResultTimeoutMs: Number(process.env.SESAME_POLL_TIMEOUT_MS ?? 30_000),
        }),
      )
    : null;

// ---------------------------------------------------------------------------------------------
// helpers

const TS = String(Date.now());
const BASE_PATH = `/sdk/${TS}`;
const VALID_TRANSFER_METHODS = new Set(["multipart", "post-url", "put-url", "source-url", "dest-url"]);
const OBJECT_ID_RE = /^pos_[a-z2-7]{32}$/;
const REQUEST_ID_RE = /^prq_[a-z2-7]{32}$/;
const UNKNOWN_ID = "pos_" + "a".repeat(32);

/** Shared state between tests. */
const S = {};

/**
 * Local model of what should be on the server below BASE_PATH:
 * id -> { id, name, type, parentId, content?: Buffer }
 */
const tree = new Map();
function track(obj, parentId, content) {
  tree.set(obj.id, { id: obj.id, name: obj.name, type: obj.type, parentId, content });
}
function childrenOf(id) {
  return [...tree.values()].filter((o) => o.parentId === id);
}
function descendantsOf(id) {
  const out = [];
  for (const c of childrenOf(id)) out.push(c, ...descendantsOf(c.id));
  return out;
}
function untrackSubtree(id) {
  for (const d of descendantsOf(id)) tree.delete(d.id);
  tree.delete(id);
}
/** Path of a tracked object relative to the base folder ("sub/nested.txt"). */
function relPath(id) {
  const parts = [];
  let cur = tree.get(id);
  while (cur && cur.id !== S.base?.id) {
    parts.unshift(cur.name);
    cur = tree.get(cur.parentId);
  }
  return parts.join("/");
}

const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");
const md5 = (b) => crypto.createHash("md5").update(b).digest("hex");
const sha512 = (b) => crypto.createHash("sha512").update(b).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function describeErr(err) {
  if (err instanceof PangeaErrors.APIError) {
    const r = err.pangeaResponse;
    return `${err.constructor.name} status=${r?.status} http=${r?.gotResponse?.status} summary=${JSON.stringify(
      err.summary,
    )} errors=${JSON.stringify(err.errors)}`;
  }
  return String(err?.stack ?? err);
}

/**
 * Define a test that is skipped (not failed) when one of the state keys it
 * needs was not produced by an earlier test.
 */
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
        // Make SDK errors readable in the report.
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
  return err;
}

/** A failure that is a proper client error (not 5xx, not a crash). */
async function rejectsAsClientError(promise, what) {
  const err = await rejectsWith(promise, PangeaErrors.APIError, what);
  assert.ok(
    !(err instanceof PangeaErrors.InternalServerError) && !(err instanceof PangeaErrors.ServiceTemporarilyUnavailable),
    `${what}: expected a client error, got ${describeErr(err)}`,
  );
  const http = err.pangeaResponse?.gotResponse?.status;
  assert.ok(http >= 400 && http < 500, `${what}: expected an HTTP 4xx, got ${http} (${describeErr(err)})`);
  checkErrorItems(err);
  return err;
}

function checkErrorItems(err) {
  const errors = err.errors;
  assert.ok(Array.isArray(errors) && errors.length > 0, `result.errors must be a non-empty array: ${describeErr(err)}`);
  for (const e of errors) {
    assert.equal(typeof e.code, "string", `error item code: ${JSON.stringify(e)}`);
    assert.equal(typeof e.detail, "string", `error item detail: ${JSON.stringify(e)}`);
    assert.equal(typeof e.source, "string", `error item source (required JSON pointer): ${JSON.stringify(e)}`);
  }
}

function checkEnvelope(resp) {
  assert.equal(resp.status, "Success");
  assert.match(resp.request_id, REQUEST_ID_RE, "request_id");
  assert.equal(typeof resp.summary, "string", "summary");
  assert.ok(!Number.isNaN(Date.parse(resp.request_time)), `request_time ${resp.request_time}`);
  assert.ok(!Number.isNaN(Date.parse(resp.response_time)), `response_time ${resp.response_time}`);
}

function checkDate(v, what) {
  assert.equal(typeof v, "string", `${what} must be a string`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} must be an RFC 3339 date: ${v}`);
}

function checkObjectCommon(o) {
  assert.ok(o && typeof o === "object", "object missing");
  assert.match(o.id, OBJECT_ID_RE, "object id");
  assert.ok(o.type === "file" || o.type === "folder", `type must be file|folder, got ${o.type}`);
  assert.equal(typeof o.name, "string");
  assert.ok(o.name.length > 0, "name must not be empty");
  assert.equal(typeof o.folder, "string", "folder must be present (Python requires it)");
  assert.equal(typeof o.parent_id, "string", "parent_id must be present");
  checkDate(o.created_at, "created_at");
  checkDate(o.updated_at, "updated_at");
}

function checkFolder(o, { name, folder, parentId }) {
  checkObjectCommon(o);
  assert.equal(o.type, "folder");
  if (name !== undefined) assert.equal(o.name, name, "name");
  if (folder !== undefined) assert.equal(o.folder, folder, "folder");
  if (parentId !== undefined) assert.equal(o.parent_id, parentId, "parent_id");
  if (o.size !== undefined) assert.equal(o.size, 0, "folder size");
}

function checkFile(o, { name, folder, parentId, content, metadata, tags }) {
  checkObjectCommon(o);
  assert.equal(o.type, "file");
  if (name !== undefined) assert.equal(o.name, name, "name");
  if (folder !== undefined) assert.equal(o.folder, folder, "folder");
  if (parentId !== undefined) assert.equal(o.parent_id, parentId, "parent_id");
  if (content !== undefined) {
    assert.equal(o.size, content.length, "size");
    assert.equal(o.sha256, sha256(content), "sha256");
    assert.equal(o.md5, md5(content), "md5");
    if (o.sha512 !== undefined) assert.equal(o.sha512, sha512(content), "sha512");
  }
  if (metadata === null) assert.equal(o.metadata, undefined, "metadata must be absent when never set");
  else if (metadata !== undefined) assert.deepEqual(o.metadata, metadata, "metadata");
  if (tags === null) assert.equal(o.tags, undefined, "tags must be absent when never set");
  else if (tags !== undefined) assert.deepEqual(o.tags, tags, "tags");
}

/** Whole-buffer equality with a short diagnostic instead of a 20 KB diff. */
function assertBytes(actual, expected, what) {
  const a = Buffer.from(actual);
  assert.equal(a.length, expected.length, `${what}: byte length`);
  assert.ok(a.equals(expected), `${what}: bytes differ (sha256 ${sha256(a)} != ${sha256(expected)})`);
}

/** Poll /request/<id> through the SDK until it is no longer Accepted. */
async function pollUntilDone(requestId, timeoutMs = 30_000) {
  const start = Date.now();
  for (;;) {
    try {
      return await share.pollResult(requestId);
    } catch (err) {
      if (!(err instanceof PangeaErrors.AcceptedRequestException)) throw err;
      if (Date.now() - start > timeoutMs) throw new Error(`request ${requestId} still Accepted after ${timeoutMs} ms`);
      await sleep(250);
    }
  }
}

async function rawPost(action, body, token = TOKEN) {
  const res = await fetch(`${BASE_URL}/v1/${action}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    assert.fail(`${action}: HTTP ${res.status} body is not JSON: ${text.slice(0, 200)}`);
  }
  return { res, json };
}

async function listAll(filter, extra = {}) {
  const resp = await share.list({ filter, ...extra });
  checkEnvelope(resp);
  return resp.result;
}

// --- archive readers -----------------------------------------------------------------------

/** Minimal ZIP reader (central directory, stored + deflate). Returns Map name -> Buffer. */
function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, "zip: end of central directory not found");
  const total = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map();
  for (let n = 0; n < total; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, "zip: central directory header signature");
    const method = buf.readUInt16LE(p + 10);
    const compSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    p += 46 + nameLen + extraLen + commentLen;
    assert.equal(buf.readUInt32LE(local), 0x04034b50, `zip: local header signature for ${name}`);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + compSize);
    let data;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else assert.fail(`zip: unsupported compression method ${method} for ${name}`);
    assert.equal(data.length, size, `zip: uncompressed size of ${name}`);
    out.set(name, data);
  }
  return out;
}

/** Minimal tar reader (ustar, GNU long names, PAX path). Returns Map name -> Buffer (files only). */
function readTar(buf) {
  const out = new Map();
  let p = 0;
  let longName = null;
  const cstr = (b) => {
    const z = b.indexOf(0);
    return b.subarray(0, z < 0 ? b.length : z).toString("utf8");
  };
  while (p + 512 <= buf.length) {
    const h = buf.subarray(p, p + 512);
    if (h.every((x) => x === 0)) break;
    let name = cstr(h.subarray(0, 100));
    const size = parseInt(cstr(h.subarray(124, 136)).trim() || "0", 8);
    const type = String.fromCharCode(h[156] || 48);
    const magic = h.subarray(257, 263).toString("latin1");
    const prefix = magic === "ustar\0" ? cstr(h.subarray(345, 500)) : ""; // POSIX ustar only (not GNU)
    if (prefix) name = `${prefix}/${name}`;
    const data = buf.subarray(p + 512, p + 512 + size);
    p += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = cstr(data);
      continue;
    }
    if (type === "x") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (m) longName = m[1];
      continue;
    }
    if (type === "g") continue;
    if (longName !== null) {
      name = longName;
      longName = null;
    }
    if (type === "0" || type === "\0" || type === "7") out.set(name, Buffer.from(data));
  }
  return out;
}

/** Check that an archive holds every tracked file below the base folder with the right bytes. */
function checkArchiveEntries(entries, fileIds) {
  const names = [...entries.keys()];
  for (const id of fileIds) {
    const f = tree.get(id);
    const rel = relPath(id);
    const hit = names.find((n) => n === rel || n.endsWith("/" + rel));
    assert.ok(hit !== undefined, `archive has no entry for ${rel}; entries: ${JSON.stringify(names)}`);
    if (f.content) assertBytes(entries.get(hit), f.content, `archive entry ${hit}`);
  }
}

function filesBelowBase() {
  return descendantsOf(S.base.id).filter((o) => o.type === "file").map((o) => o.id);
}

// ---------------------------------------------------------------------------------------------
// test data

const HELLO = Buffer.from(`hello from the sesame SDK conformance test ${TS}\n`);
const BIG = crypto.randomBytes(20_000); // > 8 KiB: avoids the SDK's small-attachment pool bug
const POSTED = crypto.randomBytes(10_000);
const PUTTED = crypto.randomBytes(12_000);
const POSTED2 = crypto.randomBytes(9_000);
const NESTED = Buffer.from("nested file\n".repeat(1000)); // 12 000 bytes, compressible
const PATHPUT = crypto.randomBytes(9_500);
const EMPTY = Buffer.alloc(0);
const PYSTYLE = Buffer.from("uploaded like the Python and Go SDKs do\n");

// ---------------------------------------------------------------------------------------------
// 0. setup, transport

test("environment: SESAME_URL and SESAME_TOKEN are set, SDK is 5.6.0", () => {
  assert.ok(BASE_URL, "SESAME_URL is not set");
  assert.match(BASE_URL, /^https?:\/\//, "SESAME_URL must be an http(s) URL");
  assert.ok(TOKEN, "SESAME_TOKEN is not set");
  assert.equal(SDK_VERSION, "5.6.0");
});

T("transport: GET /healthz and /readyz answer 200", [], async () => {
  for (const p of ["/healthz", "/readyz"]) {
    const res = await fetch(BASE_URL + p);
    await res.arrayBuffer();
    assert.equal(res.status, 200, `${p} HTTP status`);
  }
});

T("transport: envelope has exactly the six keys and x-request-id matches", [], async () => {
  const { res, json } = await rawPost("buckets", {});
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(Object.keys(json).sort(), ["request_id", "request_time", "response_time", "result", "status", "summary"]);
  assert.equal(json.status, "Success");
  assert.match(json.request_id, REQUEST_ID_RE);
  assert.equal(res.headers.get("x-request-id"), json.request_id, "x-request-id header");
  assert.equal(typeof json.summary, "string");
});

T("transport: missing or wrong token gives UnauthorizedError with a JSON envelope", [], async () => {
  const bad = new ShareService("not-a-valid-token", new PangeaConfig({ baseUrlTemplate: BASE_URL, requestRetries: 1 }));
  const err = await rejectsWith(bad.buckets(), PangeaErrors.UnauthorizedError, "buckets with a bad token");
  assert.equal(err.pangeaResponse.status, "Unauthorized");
  const res = await fetch(`${BASE_URL}/v1/buckets`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } });
  const json = JSON.parse(await res.text());
  assert.equal(json.status, "Unauthorized", "no Authorization header");
  assert.ok(res.status === 401 || res.status === 403, `HTTP status for missing token: ${res.status}`);
});

T("transport: a non-JSON body is rejected with a JSON error envelope", [], async () => {
  const res = await fetch(`${BASE_URL}/v1/list`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: "{not json",
  });
  const text = await res.text();
  let json;
  assert.doesNotThrow(() => (json = JSON.parse(text)), `body must be JSON: ${text.slice(0, 200)}`);
  assert.notEqual(json.status, "Success");
  assert.ok(res.status >= 400 && res.status < 500, `HTTP ${res.status}`);
  assert.ok(Array.isArray(json.result?.errors), "result.errors");
});

T("transport: /v1beta/<action> is served too", [], async () => {
  const res = await fetch(`${BASE_URL}/v1beta/buckets`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: "{}",
  });
  const json = JSON.parse(await res.text());
  assert.equal(res.status, 200);
  assert.equal(json.status, "Success");
  assert.ok(Array.isArray(json.result?.buckets));
});

T("transport: GET /request/<unknown id> is a JSON NotFound envelope", [], async () => {
  const res = await fetch(`${BASE_URL}/request/prq_${"a".repeat(32)}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const json = JSON.parse(await res.text());
  assert.equal(json.status, "NotFound");
  assert.equal(res.status, 404);
});

// ---------------------------------------------------------------------------------------------
// 1. buckets

T("buckets(): at least one bucket, exactly one default, valid transfer_methods", [], async () => {
  const resp = await share.buckets();
  checkEnvelope(resp);
  const buckets = resp.result.buckets;
  assert.ok(Array.isArray(buckets) && buckets.length >= 1, "at least one bucket");
  assert.equal(buckets.filter((b) => b.default === true).length, 1, "exactly one default:true bucket");
  for (const b of buckets) {
    assert.match(b.id, /^pro_[a-z2-7]{32}$/, "bucket id");
    assert.equal(typeof b.default, "boolean", "default is boolean");
    assert.equal(typeof b.name, "string", "name");
    assert.ok(Array.isArray(b.transfer_methods), "transfer_methods is an array");
    for (const m of b.transfer_methods) assert.ok(VALID_TRANSFER_METHODS.has(m), `invalid transfer method ${m}`);
  }
  S.buckets = buckets;
});

// ---------------------------------------------------------------------------------------------
// 2. folders

T("folderCreate({name, tags}) in the root", [], async () => {
  const name = `sdk-root-${TS}`;
  const resp = await share.folderCreate({ name, tags: ["sdk", "conformance"] });
  const o = resp.result.object;
  S.rootFolder = o;
  checkEnvelope(resp);
  checkFolder(o, { name, parentId: "" });
  assert.ok(o.folder === "/" || o.folder === "", `root folder path must be "/" (or ""), got ${JSON.stringify(o.folder)}`);
  assert.deepEqual(o.tags, ["sdk", "conformance"], "tags echoed in order");
  assert.equal(o.metadata, undefined, "metadata absent when never set");
});

T("folderCreate({folder: '/sdk/<ts>'}) with no name creates the full path", [], async () => {
  const resp = await share.folderCreate({ folder: BASE_PATH });
  const o = resp.result.object;
  S.base = o;
  tree.set(o.id, { id: o.id, name: o.name, type: "folder", parentId: o.parent_id });
  checkEnvelope(resp);
  checkFolder(o, { name: TS, folder: "/sdk" });
  assert.match(o.parent_id, OBJECT_ID_RE, "parent_id must be the (intermediate) /sdk folder");
});

T("folderCreate full path: intermediate folder /sdk was created", ["base"], async () => {
  const r = await listAll({ folder: "/", name: "sdk" });
  assert.equal(r.count, 1, "exactly one /sdk folder in the root");
  assert.equal(r.objects.length, 1);
  checkFolder(r.objects[0], { name: "sdk", parentId: "" });
  assert.equal(r.objects[0].id, S.base.parent_id, "/sdk id equals parent_id of /sdk/<ts>");
});

T("getItem({id}) of a folder returns it with the same fields", ["base"], async () => {
  const resp = await share.getItem({ id: S.base.id });
  checkEnvelope(resp);
  const o = resp.result.object;
  checkFolder(o, { name: TS, folder: "/sdk", parentId: S.base.parent_id });
  assert.equal(o.id, S.base.id);
  assert.equal(o.created_at, S.base.created_at, "created_at is stable");
  assert.equal(resp.attachedFiles.length, 0);
});

T("folderCreate({name, parent_id, metadata})", ["base"], async () => {
  const resp = await share.folderCreate({ name: "sub", parent_id: S.base.id, metadata: { purpose: "nested" } });
  const o = resp.result.object;
  S.sub = o;
  track(o, S.base.id);
  checkEnvelope(resp);
  checkFolder(o, { name: "sub", folder: BASE_PATH, parentId: S.base.id });
  assert.deepEqual(o.metadata, { purpose: "nested" });
  assert.equal(o.tags, undefined, "tags absent when never set");
});

T("folderCreate({name, folder: <parent path>})", ["base"], async () => {
  const resp = await share.folderCreate({ name: "byfolder", folder: BASE_PATH });
  const o = resp.result.object;
  S.byfolder = o;
  track(o, S.base.id);
  checkEnvelope(resp);
  checkFolder(o, { name: "byfolder", folder: BASE_PATH, parentId: S.base.id });
});

T("folderCreate with a parent_id that does not exist fails", [], async () => {
  await rejectsAsClientError(share.folderCreate({ name: "orphan", parent_id: UNKNOWN_ID }), "folderCreate under unknown parent");
});

// ---------------------------------------------------------------------------------------------
// 3. uploads

T("put() multipart, no transfer_method, Buffer + metadata", ["base"], async () => {
  const resp = await share.put(
    { name: "hello.txt", parent_id: S.base.id, metadata: { owner: "alice", kind: "greeting" } },
    { file: HELLO, name: "hello.txt" },
  );
  const o = resp.result.object;
  S.hello = o;
  track(o, S.base.id, HELLO);
  checkEnvelope(resp);
  checkFile(o, {
    name: "hello.txt",
    folder: BASE_PATH,
    parentId: S.base.id,
    content: HELLO,
    metadata: { owner: "alice", kind: "greeting" },
    tags: null,
  });
});

T("put() TransferMethod.MULTIPART, folder + name, tags, 20 KB", ["base"], async () => {
  const resp = await share.put(
    { name: "big.bin", folder: BASE_PATH, transfer_method: TransferMethod.MULTIPART, metadata: { size: "big" }, tags: ["big", "bin"] },
    { file: BIG, name: "big.bin" },
  );
  const o = resp.result.object;
  S.big = o;
  track(o, S.base.id, BIG);
  checkEnvelope(resp);
  checkFile(o, { name: "big.bin", folder: BASE_PATH, parentId: S.base.id, content: BIG, metadata: { size: "big" }, tags: ["big", "bin"] });
});

T("put() TransferMethod.MULTIPART, zero-byte file", ["base"], async () => {
  const resp = await share.put({ name: "empty.txt", parent_id: S.base.id, transfer_method: TransferMethod.MULTIPART }, { file: EMPTY, name: "empty.txt" });
  const o = resp.result.object;
  S.empty = o;
  track(o, S.base.id, EMPTY);
  checkEnvelope(resp);
  checkFile(o, { name: "empty.txt", folder: BASE_PATH, parentId: S.base.id, content: EMPTY, metadata: null, tags: null });
});

// put() with PUT_URL sends the file in a multipart body, as with MULTIPART;
// the document's multipart schema allows it, and the file is stored at once.
T("put() TransferMethod.PUT_URL (a multipart body) stores the file at once", ["base"], async () => {
  const data = Buffer.from("stored through put() with put-url, in one request\n");
  const resp = await share.put({ name: "put-url.txt", parent_id: S.base.id, transfer_method: TransferMethod.PUT_URL }, { file: data, name: "put-url.txt" });
  assert.equal(resp.gotResponse.status, 200);
  const o = resp.result.object;
  track(o, S.base.id, data);
  checkEnvelope(resp);
  checkFile(o, { name: "put-url.txt", folder: BASE_PATH, parentId: S.base.id, content: data, metadata: null, tags: null });
});

T("put() into a sub folder by parent_id", ["sub"], async () => {
  const resp = await share.put({ name: "nested.txt", parent_id: S.sub.id, transfer_method: TransferMethod.MULTIPART }, { file: NESTED, name: "nested.txt" });
  const o = resp.result.object;
  S.nested = o;
  track(o, S.sub.id, NESTED);
  checkEnvelope(resp);
  checkFile(o, { name: "nested.txt", folder: `${BASE_PATH}/sub`, parentId: S.sub.id, content: NESTED });
});

T("put() with a wrong declared sha256 fails with ValidationError at /sha256", ["base"], async () => {
  const err = await rejectsWith(
    share.put(
      { name: "badsha.txt", parent_id: S.base.id, transfer_method: TransferMethod.MULTIPART, sha256: "0".repeat(64) },
      { file: HELLO, name: "badsha.txt" },
    ),
    PangeaErrors.ValidationError,
    "put with wrong sha256",
  );
  checkErrorItems(err);
  assert.equal(err.errors[0].source, "/sha256", `errors[0].source: ${JSON.stringify(err.errors)}`);
});

T("put() with a wrong declared size fails with ValidationError at /size", ["base"], async () => {
  const err = await rejectsWith(
    share.put(
      { name: "badsize.txt", parent_id: S.base.id, transfer_method: TransferMethod.MULTIPART, size: HELLO.length + 7 },
      { file: HELLO, name: "badsize.txt" },
    ),
    PangeaErrors.ValidationError,
    "put with wrong size",
  );
  checkErrorItems(err);
  assert.equal(err.errors[0].source, "/size", `errors[0].source: ${JSON.stringify(err.errors)}`);
});

T("put() rejected uploads left nothing behind", ["base"], async () => {
  const r = await listAll({ folder: BASE_PATH, name__in: ["badsha.txt", "badsize.txt"] });
  assert.equal(r.count, 0, `rejected uploads must not create objects: ${JSON.stringify(r.objects.map((o) => o.name))}`);
});

T("put() TransferMethod.POST_URL: SDK posts to post_url and polls /request/<id>", ["base"], async () => {
  const resp = await share.put(
    { name: "posted.bin", parent_id: S.base.id, transfer_method: TransferMethod.POST_URL },
    { file: POSTED, name: "posted.bin" },
  );
  checkEnvelope(resp);
  assert.equal(resp.gotResponse.status, 200, "final poll reply is HTTP 200");
  const o = resp.result.object;
  track(o, S.base.id, POSTED);
  S.posted = o;
  checkFile(o, { name: "posted.bin", folder: BASE_PATH, parentId: S.base.id, content: POSTED });
  // The object really exists and has the uploaded content hash.
  const got = await share.getItem({ id: o.id });
  checkEnvelope(got);
  assert.equal(got.result.object.sha256, sha256(POSTED));
  assert.equal(got.result.object.size, POSTED.length);
});

T("requestUploadURL(PUT_URL): 202 with an absolute put_url and async fields", ["base"], async () => {
  const resp = await share.requestUploadURL({
    transfer_method: TransferMethod.PUT_URL,
    name: "putted.bin",
    parent_id: S.base.id,
    metadata: { via: "put-url" },
  });
  assert.equal(resp.status, "Accepted");
  assert.equal(resp.gotResponse.status, 202, "HTTP 202");
  assert.match(resp.request_id, REQUEST_ID_RE);
  const ar = resp.accepted_result;
  assert.ok(ar, "accepted_result");
  assert.equal(typeof ar.put_url, "string", "put_url");
  assert.doesNotThrow(() => new URL(ar.put_url), "put_url must be an absolute URL");
  assert.ok(Number.isInteger(ar.ttl_mins), `ttl_mins must be an integer: ${ar.ttl_mins}`);
  assert.ok(Number.isInteger(ar.retry_counter), `retry_counter must be an integer: ${ar.retry_counter}`);
  assert.equal(typeof ar.location, "string", "location");
  assert.ok(ar.location.endsWith(`/request/${resp.request_id}`), `location should point at /request/<id>: ${ar.location}`);
  S.putReq = resp;
});

T("pollResult before the PUT upload is still Accepted (202)", ["putReq"], async () => {
  const err = await rejectsWith(share.pollResult(S.putReq.request_id), PangeaErrors.AcceptedRequestException, "poll before upload");
  assert.equal(err.pangeaResponse.gotResponse.status, 202);
  assert.equal(err.pangeaResponse.request_id, S.putReq.request_id, "same request_id while pending");
});

T("FileUploader.uploadFile(PUT_URL) + pollResult gives the object", ["putReq"], async () => {
  await new FileUploader().uploadFile(
    new URL(S.putReq.accepted_result.put_url),
    { file: PUTTED, name: "putted.bin" },
    { transfer_method: TransferMethod.PUT_URL },
  );
  const resp = await pollUntilDone(S.putReq.request_id);
  checkEnvelope(resp);
  assert.equal(resp.request_id, S.putReq.request_id, "poll keeps the request_id");
  const o = resp.result.object;
  S.putted = o;
  track(o, S.base.id, PUTTED);
  checkFile(o, { name: "putted.bin", folder: BASE_PATH, parentId: S.base.id, content: PUTTED, metadata: { via: "put-url" }, tags: null });
});

T("put_url is single-use", ["putted"], async () => {
  const res = await fetch(S.putReq.accepted_result.put_url, {
    method: "PUT",
    body: PUTTED,
    headers: { "Content-Type": "application/octet-stream" },
  });
  await res.arrayBuffer();
  assert.ok(res.status >= 400, `re-using put_url must fail, got HTTP ${res.status}`);
});

T("requestUploadURL(POST_URL) + FileUploader.uploadFile(POST_URL) + pollResult", ["base"], async () => {
  const params = getFileUploadParams(POSTED2);
  const req = await share.requestUploadURL({
    transfer_method: TransferMethod.POST_URL,
    name: "posted2.bin",
    parent_id: S.base.id,
    crc32c: params.crc32c,
    sha256: params.sha256,
    size: params.size,
  });
  assert.equal(req.gotResponse.status, 202);
  const ar = req.accepted_result;
  assert.equal(typeof ar?.post_url, "string", "post_url");
  assert.doesNotThrow(() => new URL(ar.post_url), "post_url must be absolute");
  assert.ok(ar.post_form_data && typeof ar.post_form_data === "object", "post_form_data object");
  for (const [k, v] of Object.entries(ar.post_form_data)) assert.equal(typeof v, "string", `post_form_data.${k} must be a string`);
  await new FileUploader().uploadFile(
    new URL(ar.post_url),
    { file: POSTED2, name: "posted2.bin", file_details: ar.post_form_data },
    { transfer_method: TransferMethod.POST_URL },
  );
  const resp = await pollUntilDone(req.request_id);
  const o = resp.result.object;
  S.posted2 = o;
  track(o, S.base.id, POSTED2);
  checkEnvelope(resp);
  checkFile(o, { name: "posted2.bin", folder: BASE_PATH, parentId: S.base.id, content: POSTED2 });
});

T("put() with folder = full file path and no name (live-test form)", ["base"], async () => {
  const f = (await share.folderCreate({ name: "pathput", parent_id: S.base.id })).result.object;
  track(f, S.base.id);
  S.pathput = f;
  for (const n of [1, 2]) {
    const p = `${BASE_PATH}/pathput/${TS}_file_multipart_${n}`;
    const resp = await share.put({ folder: p, transfer_method: TransferMethod.MULTIPART }, { file: PATHPUT, name: p });
    const o = resp.result.object;
    track(o, f.id, PATHPUT);
    checkFile(o, { parentId: f.id, folder: `${BASE_PATH}/pathput`, content: PATHPUT, metadata: null, tags: null });
  }
  const r = await listAll({ folder: `${BASE_PATH}/pathput` });
  assert.equal(r.count, 2, "listing the parent folder gives both files");
});

// ---------------------------------------------------------------------------------------------
// 4. downloads

T("getItem({id, MULTIPART}) of a 20 KB file: one attachment with the right name and bytes", ["big"], async () => {
  const resp = await share.getItem({ id: S.big.id, transfer_method: TransferMethod.MULTIPART });
  checkEnvelope(resp);
  assert.match(resp.gotResponse.headers.get("content-type") ?? "", /^multipart\//, "multipart response");
  assert.equal(resp.result.dest_url, undefined, "no dest_url with multipart");
  assert.equal(resp.result.object.id, S.big.id);
  assert.equal(resp.attachedFiles.length, 1, "exactly one attached file");
  const f = resp.attachedFiles[0];
  assert.equal(f.filename, "big.bin", "attachment filename");
  assertBytes(f.file, BIG, "attachment");
});

T("getItem({id, MULTIPART}) of a small file: filename and content", ["hello"], async () => {
  const resp = await share.getItem({ id: S.hello.id, transfer_method: TransferMethod.MULTIPART });
  checkEnvelope(resp);
  assert.equal(resp.attachedFiles.length, 1);
  const f = resp.attachedFiles[0];
  assert.equal(f.filename, "hello.txt");
  // SDK bug: for parts < ~4 KiB `file` is the whole shared 8 KiB Buffer pool.
  const buf = Buffer.from(f.file);
  if (buf.length === HELLO.length) assertBytes(buf, HELLO, "attachment");
  else assert.ok(buf.length >= HELLO.length && buf.indexOf(HELLO) >= 0, "attachment bytes must contain the file content");
});

T("getItem({id, MULTIPART}) of a zero-byte file: one empty attachment", ["empty"], async () => {
  const resp = await share.getItem({ id: S.empty.id, transfer_method: TransferMethod.MULTIPART });
  checkEnvelope(resp);
  assert.equal(resp.attachedFiles.length, 1, "a zero-byte file still gets one part");
  assert.equal(resp.attachedFiles[0].filename, "empty.txt");
});

T("raw multipart download: JSON envelope first, then a part whose name= and filename= are the file name", ["big"], async () => {
  const res = await fetch(`${BASE_URL}/v1/get`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ id: S.big.id, transfer_method: "multipart" }),
  });
  assert.equal(res.status, 200);
  const ct = res.headers.get("content-type") ?? "";
  const boundary = /boundary="?([^";]+)"?/.exec(ct)?.[1];
  assert.ok(ct.startsWith("multipart/") && boundary, `content-type ${ct}`);
  const body = Buffer.from(await res.arrayBuffer()).toString("latin1");
  const parts = body.split(`--${boundary}`).slice(1, -1).map((p) => p.replace(/^\r\n/, "").replace(/\r\n$/, ""));
  assert.equal(parts.length, 2, "two parts: envelope + file");
  const [h0, b0] = parts[0].split("\r\n\r\n");
  assert.match(h0, /content-type: application\/json/i);
  const envelope = JSON.parse(b0);
  assert.deepEqual(Object.keys(envelope).sort(), ["request_id", "request_time", "response_time", "result", "status", "summary"]);
  assert.equal(envelope.status, "Success");
  const sep = parts[1].indexOf("\r\n\r\n");
  const h1 = parts[1].slice(0, sep);
  const cd = /content-disposition:([^\r\n]*)/i.exec(h1)?.[1] ?? "";
  assert.match(cd, /\bname="big\.bin"/, `part name= must be the file name (Python uses it): ${cd}`);
  assert.match(cd, /\bfilename="big\.bin"/, `part filename=: ${cd}`);
  assertBytes(Buffer.from(parts[1].slice(sep + 4), "latin1"), BIG, "raw part");
});

T("raw multipart upload with a part named `upload` and no filename on `request` (Python/Go style)", ["base"], async () => {
  const form = new FormData();
  form.append("request", JSON.stringify({ name: "py-style.txt", parent_id: S.base.id, transfer_method: "multipart" }));
  form.append("upload", new Blob([PYSTYLE]), "py-style.txt");
  const res = await fetch(`${BASE_URL}/v1/put`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}` }, body: form });
  const json = JSON.parse(await res.text());
  assert.equal(json.status, "Success", JSON.stringify(json));
  const o = json.result.object;
  track(o, S.base.id, PYSTYLE);
  checkFile(o, { name: "py-style.txt", parentId: S.base.id, content: PYSTYLE });
});

T("getItem({id, DEST_URL}) + downloadFile: bytes and filename", ["hello", "big"], async () => {
  for (const [o, content] of [
    [S.hello, HELLO],
    [S.big, BIG],
  ]) {
    const resp = await share.getItem({ id: o.id, transfer_method: TransferMethod.DEST_URL });
    checkEnvelope(resp);
    assert.equal(resp.attachedFiles.length, 0, "no attachment with dest-url");
    assert.equal(resp.result.object.id, o.id);
    const url = resp.result.dest_url;
    assert.equal(typeof url, "string", "dest_url");
    assert.match(url, /^https?:\/\//, "dest_url must be absolute");
    const file = await share.downloadFile(new URL(url));
    assert.equal(file.filename, o.name, "download filename");
    assertBytes(file.file, content, `download of ${o.name}`);
    S.destUrl = url;
  }
});

T("dest_url works without Authorization (Python clients) and sets headers", ["destUrl"], async () => {
  const res = await fetch(S.destUrl);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200);
  assertBytes(body, BIG, "anonymous download");
  assert.match(res.headers.get("content-disposition") ?? "", /filename="?big\.bin"?/, "Content-Disposition filename");
  assert.ok(res.headers.get("content-type"), "Content-Type set");
});

T("getItem({id}) without transfer_method returns metadata only", ["big"], async () => {
  const resp = await share.getItem({ id: S.big.id });
  checkEnvelope(resp);
  assert.match(resp.gotResponse.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(resp.attachedFiles.length, 0);
  assert.equal(resp.result.dest_url, undefined);
  const o = resp.result.object;
  checkFile(o, { name: "big.bin", folder: BASE_PATH, parentId: S.base.id, content: BIG, metadata: { size: "big" }, tags: ["big", "bin"] });
  assert.equal(o.created_at, S.big.created_at, "created_at string-equal to put result");
  assert.equal(o.updated_at, S.big.updated_at, "updated_at string-equal to put result");
});

// ---------------------------------------------------------------------------------------------
// 5. archives

async function archiveTest(format, method) {
  const resp = await share.getArchive({ ids: [S.base.id], format, transfer_method: method });
  checkEnvelope(resp);
  const r = resp.result;
  assert.ok(Array.isArray(r.objects), "objects must be present");
  assert.equal(r.count, r.objects.length, "count equals objects.length");
  const ids = new Set(r.objects.map((o) => o.id));
  const files = filesBelowBase();
  for (const id of files) assert.ok(ids.has(id), `objects must include ${relPath(id)}`);
  const allowed = new Set([S.base.id, ...descendantsOf(S.base.id).map((o) => o.id)]);
  for (const id of ids) assert.ok(allowed.has(id), `objects contains a foreign object ${id}`);
  for (const o of r.objects) checkObjectCommon(o);

  let bytes;
  if (method === TransferMethod.MULTIPART) {
    assert.equal(r.dest_url, undefined, "no dest_url with multipart");
    assert.equal(resp.attachedFiles.length, 1, "exactly one attachment");
    const a = resp.attachedFiles[0];
    assert.ok(a.filename && a.filename !== "defaultFilename", "archive part must have a filename");
    assert.ok(a.filename.toLowerCase().endsWith(`.${format}`), `archive filename ${a.filename} should end in .${format}`);
    bytes = Buffer.from(a.file);
  } else {
    assert.equal(resp.attachedFiles.length, 0);
    assert.match(r.dest_url ?? "", /^https?:\/\//, "absolute dest_url");
    const f = await share.downloadFile(new URL(r.dest_url));
    assert.ok(f.filename, "download filename");
    bytes = Buffer.from(f.file);
  }
  assert.ok(bytes.length > 0, "non-empty archive");
  if (format === "zip") {
    assert.equal(bytes.subarray(0, 2).toString("latin1"), "PK", "zip magic");
    checkArchiveEntries(readZip(bytes), files);
  } else {
    assert.ok(bytes.length >= 1024 && bytes.length % 512 === 0, `tar length ${bytes.length} is a multiple of 512`);
    assert.equal(bytes.subarray(257, 262).toString("latin1"), "ustar", "tar ustar magic");
    checkArchiveEntries(readTar(bytes), files);
  }
}

T("getArchive({ids:[folder], zip, MULTIPART})", ["base", "big"], () => archiveTest(Share.ArchiveFormat.ZIP, TransferMethod.MULTIPART));
T("getArchive({ids:[folder], zip, DEST_URL}) + downloadFile", ["base", "big"], () => archiveTest(Share.ArchiveFormat.ZIP, TransferMethod.DEST_URL));
T("getArchive({ids:[folder], tar, MULTIPART})", ["base", "big"], () => archiveTest(Share.ArchiveFormat.TAR, TransferMethod.MULTIPART));
T("getArchive({ids:[folder], tar, DEST_URL}) + downloadFile", ["base", "big"], () => archiveTest(Share.ArchiveFormat.TAR, TransferMethod.DEST_URL));

T("getArchive({ids:[file], zip, MULTIPART}) of a single file", ["big"], async () => {
  const resp = await share.getArchive({ ids: [S.big.id], format: Share.ArchiveFormat.ZIP, transfer_method: TransferMethod.MULTIPART });
  checkEnvelope(resp);
  assert.equal(resp.result.count, 1);
  assert.deepEqual(resp.result.objects.map((o) => o.id), [S.big.id]);
  assert.equal(resp.attachedFiles.length, 1);
  const entries = readZip(Buffer.from(resp.attachedFiles[0].file));
  const names = [...entries.keys()].filter((n) => !n.endsWith("/"));
  assert.equal(names.length, 1, `single-file archive holds just the file: ${JSON.stringify([...entries.keys()])}`);
  assert.ok(names[0] === "big.bin" || names[0].endsWith("/big.bin"), `entry name ${names[0]}`);
  assertBytes(entries.get(names[0]), BIG, "zip entry");
});

// ---------------------------------------------------------------------------------------------
// 6. list

const baseChildren = () => childrenOf(S.base.id);
const sortedNames = (objs) => objs.map((o) => o.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

T("list({filter:{folder}}): count equals the number of direct children", ["base"], async () => {
  const r = await listAll({ folder: BASE_PATH });
  const want = baseChildren();
  assert.equal(r.count, want.length, `count; expected ${JSON.stringify(sortedNames(want))}`);
  assert.equal(r.objects.length, want.length, "all objects on one page");
  assert.deepEqual(sortedNames(r.objects), sortedNames(want));
  assert.ok(!r.last, "no `last` cursor when everything fits on one page");
  for (const o of r.objects) {
    checkObjectCommon(o);
    assert.equal(o.folder, BASE_PATH, `folder of ${o.name}`);
    assert.equal(o.parent_id, S.base.id, `parent_id of ${o.name}`);
  }
});

T("list({filter:{parent_id}}) matches list by folder", ["base"], async () => {
  const r = await listAll({ parent_id: S.base.id });
  assert.deepEqual(sortedNames(r.objects), sortedNames(baseChildren()));
});

T("list with size:1 pages through every child via `last` without duplicates", ["base"], async () => {
  const want = baseChildren();
  const seen = [];
  let last;
  for (let page = 0; page < want.length + 3; page++) {
    const resp = await share.list({ filter: { folder: BASE_PATH }, size: 1, ...(last ? { last } : {}) });
    const r = resp.result;
    assert.equal(r.count, want.length, `count on page ${page} is the total, not the page size`);
    assert.ok(r.objects.length <= 1, `page ${page} has ${r.objects.length} objects`);
    seen.push(...r.objects.map((o) => o.id));
    last = r.last;
    if (!last) break;
    assert.equal(r.objects.length, 1, `a page followed by a cursor must be full (page ${page})`);
  }
  assert.ok(!last, "paging did not terminate");
  assert.equal(new Set(seen).size, seen.length, "no duplicates across pages");
  assert.deepEqual([...seen].sort(), want.map((o) => o.id).sort(), "every child seen exactly once");
});

T("list filter name__contains (AND of substrings)", ["base", "putted", "big", "sub"], async () => {
  // "u" alone also matches "sub" and "pathput", ".bin" alone also matches "big.bin".
  const subs = ["u", ".bin"];
  const r = await listAll({ folder: BASE_PATH, name__contains: subs });
  const want = baseChildren().filter((o) => subs.every((s) => o.name.includes(s)));
  assert.ok(want.length > 0, "test precondition: something matches");
  assert.equal(r.count, want.length);
  assert.deepEqual(sortedNames(r.objects), sortedNames(want));
});

T("list filter name and name__in", ["base", "big", "hello"], async () => {
  let r = await listAll({ folder: BASE_PATH, name: "big.bin" });
  assert.deepEqual(r.objects.map((o) => o.id), [S.big.id]);
  r = await listAll({ folder: BASE_PATH, name__in: ["big.bin", "hello.txt", "does-not-exist"] });
  assert.deepEqual(r.objects.map((o) => o.id).sort(), [S.big.id, S.hello.id].sort());
});

T("list filter type 'folder'", ["base"], async () => {
  const r = await listAll({ folder: BASE_PATH, type: "folder" });
  const want = baseChildren().filter((o) => o.type === "folder");
  assert.ok(want.length > 0);
  assert.equal(r.count, want.length);
  assert.deepEqual(sortedNames(r.objects), sortedNames(want));
  for (const o of r.objects) assert.equal(o.type, "folder");
});

T("list filter type 'file'", ["base"], async () => {
  const r = await listAll({ folder: BASE_PATH, type: "file" });
  const want = baseChildren().filter((o) => o.type === "file");
  assert.deepEqual(sortedNames(r.objects), sortedNames(want));
});

for (const [label, value] of [
  ["a number", 1000],
  ["a string (as the Go SDK sends it)", "1000"],
]) {
  T(`list filter size__gt as ${label}`, ["base"], async () => {
    const r = await listAll({ folder: BASE_PATH, size__gt: value });
    const want = baseChildren().filter((o) => o.content && o.content.length > 1000);
    assert.ok(want.length > 0);
    assert.equal(r.count, want.length, `expected ${JSON.stringify(sortedNames(want))}, got ${JSON.stringify(sortedNames(r.objects))}`);
    assert.deepEqual(sortedNames(r.objects), sortedNames(want));
  });
}

T("list filter size__lte and size (equality)", ["base", "hello"], async () => {
  let r = await listAll({ folder: BASE_PATH, type: "file", size__lte: HELLO.length });
  const want = baseChildren().filter((o) => o.content && o.content.length <= HELLO.length);
  assert.deepEqual(sortedNames(r.objects), sortedNames(want));
  r = await listAll({ folder: BASE_PATH, size: HELLO.length });
  assert.deepEqual(r.objects.map((o) => o.id), baseChildren().filter((o) => o.content?.length === HELLO.length).map((o) => o.id));
  assert.ok(r.objects.some((o) => o.id === S.hello.id));
});

T("list filter tags (all must be present)", ["big"], async () => {
  let r = await listAll({ folder: BASE_PATH, tags: ["big"] });
  assert.deepEqual(r.objects.map((o) => o.id), [S.big.id]);
  r = await listAll({ folder: BASE_PATH, tags: ["big", "nope"] });
  assert.equal(r.count, 0);
});

T("list filter id__in", ["big", "hello"], async () => {
  const r = await listAll({ id__in: [S.big.id, S.hello.id, UNKNOWN_ID] });
  assert.deepEqual(r.objects.map((o) => o.id).sort(), [S.big.id, S.hello.id].sort());
});

T("list filter created_at__gte with a DateTime", ["base"], async () => {
  const r = await listAll({ folder: BASE_PATH, created_at__gte: "2000-01-01T00:00:00Z" });
  assert.equal(r.count, baseChildren().length);
  const r2 = await listAll({ folder: BASE_PATH, created_at__gt: "2999-01-01T00:00:00Z" });
  assert.equal(r2.count, 0);
});

for (const order of [Share.ItemOrder.ASC, Share.ItemOrder.DESC]) {
  T(`list order ${order} order_by name`, ["base"], async () => {
    const r = await listAll({ folder: BASE_PATH }, { order, order_by: Share.ItemOrderBy.NAME });
    const want = sortedNames(baseChildren());
    if (order === Share.ItemOrder.DESC) want.reverse();
    assert.deepEqual(r.objects.map((o) => o.name), want);
  });
}

T("list order_by name with size:2 paging keeps the order", ["base"], async () => {
  const want = sortedNames(baseChildren());
  const got = [];
  let last;
  for (let i = 0; i < want.length + 2; i++) {
    const r = (await share.list({ filter: { folder: BASE_PATH }, order: "asc", order_by: "name", size: 2, ...(last ? { last } : {}) })).result;
    got.push(...r.objects.map((o) => o.name));
    last = r.last;
    if (!last) break;
  }
  assert.deepEqual(got, want);
});

// ---------------------------------------------------------------------------------------------
// 7. update

T("update({id, tags}) replaces tags", ["hello"], async () => {
  const resp = await share.update({ id: S.hello.id, tags: ["a", "b"] });
  checkEnvelope(resp);
  const o = resp.result.object;
  checkFile(o, { name: "hello.txt", parentId: S.base.id, content: HELLO, tags: ["a", "b"], metadata: { owner: "alice", kind: "greeting" } });
  S.helloPrev = S.hello;
  S.hello = o;
});

T("update bumps updated_at and keeps created_at", ["helloPrev"], async () => {
  assert.equal(S.hello.created_at, S.helloPrev.created_at, "created_at unchanged");
  assert.notEqual(S.hello.updated_at, S.helloPrev.updated_at, "updated_at changes on update");
  assert.ok(Date.parse(S.hello.updated_at) >= Date.parse(S.helloPrev.updated_at), "updated_at does not go backwards");
});

T("update({id, add_tags}) keeps order: [a,b] + [c] = [a,b,c]", ["helloPrev"], async () => {
  const resp = await share.update({ id: S.hello.id, add_tags: ["c"] });
  assert.deepEqual(resp.result.object.tags, ["a", "b", "c"]);
  S.hello = resp.result.object;
});

T("update add_tags with an existing tag is not an error and adds no duplicate", ["helloPrev"], async () => {
  const resp = await share.update({ id: S.hello.id, add_tags: ["a"] });
  assert.deepEqual(resp.result.object.tags, ["a", "b", "c"]);
  S.hello = resp.result.object;
});

T("update remove_tags (missing tag is not an error)", ["helloPrev"], async () => {
  const resp = await share.update({ id: S.hello.id, remove_tags: ["b", "zzz"] });
  assert.deepEqual(resp.result.object.tags, ["a", "c"]);
  S.hello = resp.result.object;
});

T("update add_metadata merges, remove_metadata needs key and value to match", ["helloPrev"], async () => {
  let resp = await share.update({ id: S.hello.id, add_metadata: { owner: "bob", extra: "1" } });
  assert.deepEqual(resp.result.object.metadata, { owner: "bob", kind: "greeting", extra: "1" });
  resp = await share.update({ id: S.hello.id, remove_metadata: { owner: "alice", extra: "1", missing: "x" } });
  assert.deepEqual(resp.result.object.metadata, { owner: "bob", kind: "greeting" }, "owner kept (value mismatch), extra removed");
  resp = await share.update({ id: S.hello.id, metadata: { only: "this" } });
  assert.deepEqual(resp.result.object.metadata, { only: "this" }, "metadata replaces");
  S.hello = resp.result.object;
});

T("update({id, name}) renames", ["helloPrev"], async () => {
  const resp = await share.update({ id: S.hello.id, name: "renamed.txt" });
  const o = resp.result.object;
  checkFile(o, { name: "renamed.txt", folder: BASE_PATH, parentId: S.base.id, content: HELLO });
  tree.get(o.id).name = "renamed.txt";
  const got = (await share.getItem({ id: o.id })).result.object;
  assert.equal(got.name, "renamed.txt");
  const r = await listAll({ folder: BASE_PATH, name: "hello.txt" });
  assert.equal(r.count, 0, "old name no longer listed");
  const d = await share.getItem({ id: o.id, transfer_method: TransferMethod.DEST_URL });
  const f = await share.downloadFile(new URL(d.result.dest_url));
  assert.equal(f.filename, "renamed.txt", "download uses the new name");
  assertBytes(f.file, HELLO, "content survives rename");
  S.hello = o;
});

T("update with a stale updated_at fails with ValidationError", ["helloPrev"], async () => {
  const stale = S.helloPrev.updated_at;
  assert.notEqual(stale, S.hello.updated_at);
  const err = await rejectsWith(
    share.update({ id: S.hello.id, name: "stale.txt", updated_at: stale }),
    PangeaErrors.ValidationError,
    "update with stale updated_at",
  );
  checkErrorItems(err);
  const got = (await share.getItem({ id: S.hello.id })).result.object;
  assert.equal(got.name, "renamed.txt", "stale update must not be applied");
  await rejectsWith(
    share.update({ id: S.hello.id, name: "stale.txt", updated_at: "2000-01-01T00:00:00Z" }),
    PangeaErrors.ValidationError,
    "update with a very old updated_at",
  );
});

T("update with the current updated_at succeeds", ["helloPrev"], async () => {
  const resp = await share.update({ id: S.hello.id, add_tags: ["d"], updated_at: S.hello.updated_at });
  assert.deepEqual(resp.result.object.tags, ["a", "c", "d"]);
  S.hello = resp.result.object;
});

T("update({id, parent_id}) moves a file", ["hello", "byfolder"], async () => {
  const resp = await share.update({ id: S.hello.id, parent_id: S.byfolder.id });
  const o = resp.result.object;
  checkFile(o, { name: "renamed.txt", folder: `${BASE_PATH}/byfolder`, parentId: S.byfolder.id, content: HELLO });
  tree.get(o.id).parentId = S.byfolder.id;
  const r = await listAll({ folder: `${BASE_PATH}/byfolder` });
  assert.deepEqual(r.objects.map((x) => x.id), [o.id], "listed in the new folder");
  const r2 = await listAll({ folder: BASE_PATH, name: "renamed.txt" });
  assert.equal(r2.count, 0, "gone from the old folder");
  S.hello = o;
});

T("update({id, folder}) moves a file back by path", ["hello", "byfolder"], async () => {
  const resp = await share.update({ id: S.hello.id, folder: BASE_PATH });
  const o = resp.result.object;
  checkFile(o, { name: "renamed.txt", folder: BASE_PATH, parentId: S.base.id });
  tree.get(o.id).parentId = S.base.id;
  S.hello = o;
});

T("moving a folder into its own sub folder fails", ["sub"], async () => {
  await rejectsAsClientError(share.update({ id: S.base.id, parent_id: S.sub.id }), "move folder into its child");
  const got = (await share.getItem({ id: S.base.id })).result.object;
  assert.equal(got.folder, "/sdk", "base folder did not move");
});

T("moving a folder moves its contents (folder paths follow)", ["sub", "byfolder", "nested"], async () => {
  const resp = await share.update({ id: S.sub.id, parent_id: S.byfolder.id });
  assert.equal(resp.result.object.folder, `${BASE_PATH}/byfolder`);
  tree.get(S.sub.id).parentId = S.byfolder.id;
  const n = (await share.getItem({ id: S.nested.id })).result.object;
  assert.equal(n.folder, `${BASE_PATH}/byfolder/sub`, "descendant folder path updated");
  assert.equal(n.parent_id, S.sub.id);
  const back = await share.update({ id: S.sub.id, parent_id: S.base.id });
  assert.equal(back.result.object.folder, BASE_PATH);
  tree.get(S.sub.id).parentId = S.base.id;
});

// ---------------------------------------------------------------------------------------------
// 8. errors for unknown objects

T("getItem of an unknown id gives NotFound", [], async () => {
  const err = await rejectsWith(share.getItem({ id: UNKNOWN_ID }), PangeaErrors.APIError, "get unknown id");
  assert.ok(
    err instanceof PangeaErrors.NotFound || err.pangeaResponse.status === "NotFound",
    `expected NotFound, got ${describeErr(err)}`,
  );
  checkErrorItems(err);
});

T("update and delete of an unknown id give NotFound", [], async () => {
  for (const [what, call] of [
    ["update", () => share.update({ id: UNKNOWN_ID, name: "x" })],
    ["delete", () => share.delete({ id: UNKNOWN_ID })],
  ]) {
    const err = await rejectsWith(call(), PangeaErrors.APIError, what);
    assert.equal(err.pangeaResponse.status, "NotFound", `${what}: ${describeErr(err)}`);
  }
});

T("raw error envelope for an unknown id", [], async () => {
  const { res, json } = await rawPost("get", { id: UNKNOWN_ID });
  assert.deepEqual(Object.keys(json).sort(), ["request_id", "request_time", "response_time", "result", "status", "summary"]);
  assert.equal(json.status, "NotFound");
  assert.ok(res.status >= 400 && res.status < 500, `HTTP ${res.status}`);
  assert.equal(res.headers.get("x-request-id"), json.request_id);
});

// ---------------------------------------------------------------------------------------------
// 9. delete

T("delete({id}) of a file gives count 1 and the file is gone", ["empty"], async () => {
  const resp = await share.delete({ id: S.empty.id });
  checkEnvelope(resp);
  assert.equal(resp.result.count, 1);
  untrackSubtree(S.empty.id);
  const err = await rejectsWith(share.getItem({ id: S.empty.id }), PangeaErrors.APIError, "get after delete");
  assert.equal(err.pangeaResponse.status, "NotFound", describeErr(err));
  const r = await listAll({ folder: BASE_PATH, name: "empty.txt" });
  assert.equal(r.count, 0, "deleted file is not listed");
});

T("delete of a non-empty folder without force fails", ["sub", "nested"], async () => {
  await rejectsAsClientError(share.delete({ id: S.sub.id }), "delete non-empty folder");
  const got = await share.getItem({ id: S.nested.id });
  assert.equal(got.result.object.id, S.nested.id, "content still there");
});

T("delete of a non-empty folder with force:true counts the children too", ["sub", "nested"], async () => {
  const want = 1 + descendantsOf(S.sub.id).length;
  const resp = await share.delete({ id: S.sub.id, force: true });
  assert.equal(resp.result.count, want);
  untrackSubtree(S.sub.id);
  await rejectsWith(share.getItem({ id: S.nested.id }), PangeaErrors.APIError, "child gone after forced delete");
});

T("delete of an empty folder gives count 1", ["byfolder"], async () => {
  assert.equal(descendantsOf(S.byfolder.id).length, 0, "precondition: byfolder is empty");
  const resp = await share.delete({ id: S.byfolder.id });
  assert.equal(resp.result.count, 1);
  untrackSubtree(S.byfolder.id);
});

T("cleanup: forced delete of the test tree counts everything", ["base"], async () => {
  const want = 1 + descendantsOf(S.base.id).length;
  const resp = await share.delete({ id: S.base.id, force: true });
  assert.equal(resp.result.count, want);
  const r = await listAll({ folder: "/sdk", name: TS });
  assert.equal(r.count, 0);
});

T("cleanup: delete the root-level test folder", ["rootFolder"], async () => {
  const resp = await share.delete({ id: S.rootFolder.id });
  assert.equal(resp.result.count, 1);
});
