// The agent's photo uploads on real parts: bytes into a real local R2 bucket (wrangler's getPlatformProxy) through
// the Worker's PUT, read back through the binding and the GET/HEAD route; records into a real Postgres. Refused
// input changes nothing, in R2 or in Postgres.
import { createHash, randomBytes } from "node:crypto";
import { PHOTO_MAX_BYTES } from "@wa-monitor/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { query } from "../../tools/test/db.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, edgeHarness, LAWLEY, PROJECTS, type Edge } from "./harness.ts";

let edge: Edge;
beforeAll(async () => {
  edge = await edgeHarness();
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** `size` bytes that start like a JPEG and are noise after: a file like a phone's photo, new each call. */
function jpegOf(size: number): Buffer {
  const b = randomBytes(size);
  b.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return b;
}
const PNG_START = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const put = (bytes: Uint8Array, opts: { sha?: string; type?: string | null; token?: string | null } = {}) =>
  edge.call("PUT", `/v1/agent/photos/blobs/${opts.sha ?? sha256(bytes)}`, {
    token: opts.token === undefined ? AGENT_TOKEN : opts.token,
    rawBody: new Uint8Array(bytes),
    headers: opts.type === null ? {} : { "content-type": opts.type ?? "image/jpeg" },
  });

const inR2 = async (sha: string) => {
  const obj = await edge.env.PHOTOS.get(`photos/${sha}`);
  return obj ? { bytes: Buffer.from(await obj.arrayBuffer()), type: obj.httpMetadata?.contentType } : null;
};

const photoCount = async () => (await query(edge.databaseUrl, "SELECT count(*)::int AS n FROM photos"))[0].n as number;

let seq = 0;
function record(over: Record<string, unknown> = {}) {
  seq += 1;
  return {
    chatJid: LAWLEY,
    messageId: `3EB0PHOTO${String(seq).padStart(10, "0")}`,
    session: "primary",
    senderJid: "27821234567@s.whatsapp.net",
    senderPhone: "+27821234567",
    senderName: "Thabo",
    sentAt: "2026-11-24T08:16:00.000Z",
    kind: "image",
    state: "failed",
    sha256: null,
    mimetype: null,
    bytes: null,
    caption: null,
    quotedId: null,
    captionDrops: [],
    quotedDrops: [],
    thumbnail: null,
    ...over,
  };
}

const stored = (bytes: Buffer, over: Record<string, unknown> = {}) =>
  record({ state: "stored", sha256: sha256(bytes), mimetype: "image/jpeg", bytes: bytes.length, ...over });

describe("PUT /v1/agent/photos/blobs/:sha256", () => {
  it("stores the exact bytes in R2 under their hash with their type, once", async () => {
    const photo = jpegOf(187_000);
    const sha = sha256(photo);
    const r = await put(photo);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ sha256: sha, bytes: photo.length, stored: true });
    const held = await inR2(sha);
    expect(held!.bytes.equals(photo)).toBe(true);
    expect(held!.type).toBe("image/jpeg");
    // Read back through the route as well: GET, and HEAD (the same answer, no body).
    expect((await edge.agent("GET", `/v1/agent/photos/blobs/${sha}`)).body).toEqual({ sha256: sha, bytes: photo.length, mimetype: "image/jpeg" });
    const head = await edge.call("HEAD", `/v1/agent/photos/blobs/${sha}`, { token: AGENT_TOKEN });
    expect([head.status, head.body]).toEqual([200, ""]);
    // Idempotent: again changes nothing and says so.
    expect((await put(photo)).body).toEqual({ sha256: sha, bytes: photo.length, stored: false });
    expect((await inR2(sha))!.bytes.equals(photo)).toBe(true);
  });

  it("takes a photo over the 1 MiB limit of the other routes, up to PHOTO_MAX_BYTES", async () => {
    const big = jpegOf(3 * 1024 * 1024 + 17);
    expect((await put(big)).body).toMatchObject({ stored: true, bytes: big.length });
    expect((await inR2(sha256(big)))!.bytes.equals(big)).toBe(true);
  });

  it("refuses bytes whose SHA-256 is not the path's, storing nothing", async () => {
    const photo = jpegOf(120_000);
    const other = sha256(jpegOf(10));
    const r = await put(photo, { sha: other });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "invalid_request", message: expect.stringContaining(sha256(photo)) });
    expect(await inR2(other)).toBeNull();
    expect(await inR2(sha256(photo))).toBeNull();
    expect((await edge.agent("GET", `/v1/agent/photos/blobs/${other}`)).status).toBe(404);
    const head = await edge.call("HEAD", `/v1/agent/photos/blobs/${other}`, { token: AGENT_TOKEN });
    expect(head.status).toBe(404);
  });

  it("refuses other types, bytes not of the type named, empty and oversized bodies, and bad hashes: 400/413, nothing stored", async () => {
    const photo = jpegOf(50_000);
    const cases: [Uint8Array, Parameters<typeof put>[1], number][] = [
      [photo, { type: "image/gif" }, 400],
      [photo, { type: "application/octet-stream" }, 400],
      [photo, { type: null }, 400],
      [photo, { type: "image/png" }, 400], // the bytes are a JPEG
      [Buffer.concat([PNG_START, randomBytes(100)]), { type: "image/jpeg" }, 400],
      [new Uint8Array(0), {}, 400],
      [photo, { sha: sha256(photo).toUpperCase() }, 400],
      [photo, { sha: "abc" }, 400],
      [jpegOf(PHOTO_MAX_BYTES + 1), {}, 413],
    ];
    for (const [bytes, opts, status] of cases) {
      const r = await put(bytes, opts);
      expect([JSON.stringify(opts), r.status, r.body.error?.code]).toEqual([
        JSON.stringify(opts),
        status,
        status === 413 ? "payload_too_large" : "invalid_request",
      ]);
      expect(await inR2(sha256(bytes))).toBeNull();
    }
  });

  it("answers 401 without the agent token, storing nothing", async () => {
    const photo = jpegOf(40_000);
    for (const token of [null, DASHBOARD_TOKEN, "x".repeat(40)]) {
      const r = await put(photo, { token });
      expect([r.status, r.body.error.code]).toEqual([401, "unauthorized"]);
    }
    expect(await inR2(sha256(photo))).toBeNull();
    for (const method of ["GET", "HEAD"]) {
      const r = await edge.call(method, `/v1/agent/photos/blobs/${sha256(photo)}`, { token: DASHBOARD_TOKEN });
      expect(r.status).toBe(401);
    }
  });
});

describe("POST /v1/agent/photos", () => {
  it("answers missing_bytes for a stored record whose bytes R2 lacks, and writes nothing for it", async () => {
    const photo = jpegOf(90_000);
    const before = await photoCount();
    const r = await edge.agent("POST", "/v1/agent/photos", { photos: [stored(photo)] });
    expect(r.body.results).toEqual([{ messageId: expect.any(String), status: "missing_bytes" }]);
    expect(await photoCount()).toBe(before);
  });

  it("records a photo once its bytes are up: new, then duplicate on a retry or from the backup session", async () => {
    const photo = jpegOf(150_000);
    const thumb = jpegOf(2_000);
    expect((await put(photo)).status).toBe(200);
    const rec = stored(photo, { caption: "DR12345678 ONT", captionDrops: ["DR12345678"], thumbnail: thumb.toString("base64"), width: 1600, height: 1200 });
    expect((await edge.agent("POST", "/v1/agent/photos", { photos: [rec] })).body.results).toEqual([{ messageId: rec.messageId, status: "new" }]);
    // The same message again (a lost answer retried; the backup number seeing it), alone and twice in one batch.
    const again = await edge.agent("POST", "/v1/agent/photos", { photos: [rec, { ...rec, session: "backup" }] });
    expect(again.body.results.map((x: { status: string }) => x.status)).toEqual(["duplicate", "duplicate"]);
    const rows = await query(
      edge.databaseUrl,
      "SELECT session, state, sha256, mimetype, bytes, width, height, caption, caption_drops, quoted_drops, thumbnail, p.name AS project FROM photos JOIN projects p ON p.id = project_id WHERE message_id = $1",
      [rec.messageId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ session: "primary", state: "stored", sha256: sha256(photo), mimetype: "image/jpeg", bytes: photo.length, width: 1600, height: 1200, caption: "DR12345678 ONT", caption_drops: ["DR12345678"], quoted_drops: [], project: "Lawley" });
    expect(Buffer.from(rows[0].thumbnail).equals(thumb)).toBe(true);
  });

  it("keeps one record per message when both sessions upload it in one batch", async () => {
    const photo = jpegOf(60_000);
    await put(photo);
    const rec = stored(photo);
    const r = await edge.agent("POST", "/v1/agent/photos", { photos: [rec, { ...rec, session: "backup" }] });
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual(["new", "duplicate"]);
    expect(await query(edge.databaseUrl, "SELECT session FROM photos WHERE message_id = $1", [rec.messageId])).toEqual([{ session: "primary" }]);
  });

  it("moves a record forward (failed → stored: updated), never back", async () => {
    const photo = jpegOf(70_000);
    const failed = record({ state: "failed" });
    expect((await edge.agent("POST", "/v1/agent/photos", { photos: [failed] })).body.results[0].status).toBe("new");
    await put(photo);
    const later = stored(photo, { messageId: failed.messageId });
    expect((await edge.agent("POST", "/v1/agent/photos", { photos: [later] })).body.results[0].status).toBe("updated");
    // Another agent that could not download it says less: nothing changes.
    expect((await edge.agent("POST", "/v1/agent/photos", { photos: [failed] })).body.results[0].status).toBe("duplicate");
    expect(await query(edge.databaseUrl, "SELECT state, sha256 FROM photos WHERE message_id = $1", [failed.messageId])).toEqual([
      { state: "stored", sha256: sha256(photo) },
    ]);
  });

  it("records images kept without bytes (too large, other types) and answers unknown_group for an unknown group", async () => {
    const big = record({ state: "too_large", mimetype: "image/jpeg", bytes: null });
    const gif = record({ state: "unsupported" });
    const stranger = record({ chatJid: "120363000000000000@g.us" });
    const r = await edge.agent("POST", "/v1/agent/photos", { photos: [big, stranger, gif] });
    expect(r.body.results).toEqual([
      { messageId: big.messageId, status: "new" },
      { messageId: stranger.messageId, status: "unknown_group" },
      { messageId: gif.messageId, status: "new" },
    ]);
    expect(await query(edge.databaseUrl, "SELECT count(*)::int AS n FROM photos WHERE chat_jid = $1", [stranger.chatJid])).toEqual([{ n: 0 }]);
  });

  it("records an image whose WhatsApp dimensions do not fit (uint32 there) with them unknown, not refusing the batch", async () => {
    // A refused batch is split by the agent down to the one record, which then waits forever: the photo never arrives.
    const huge = record({ state: "too_large", width: 2 ** 32 - 1, height: 2 ** 31 });
    const fits = record({ state: "too_large", width: 2 ** 31 - 1, height: 1200 });
    const r = await edge.agent("POST", "/v1/agent/photos", { photos: [huge, fits] });
    expect([r.status, r.body.results?.map((x: { status: string }) => x.status)]).toEqual([200, ["new", "new"]]);
    const rows = await query(edge.databaseUrl, "SELECT message_id, width, height FROM photos WHERE message_id = ANY($1) ORDER BY message_id", [[huge.messageId, fits.messageId]]);
    expect(rows).toEqual([
      { message_id: huge.messageId, width: null, height: null },
      { message_id: fits.messageId, width: 2 ** 31 - 1, height: 1200 },
    ]);
  });

  it("serves no bytes for a record not stored, even one naming bytes R2 holds: 404 as for any photo kept without them", async () => {
    const photo = jpegOf(30_000);
    expect((await put(photo)).status).toBe(200);
    const rec = record({ state: "failed", sha256: sha256(photo), mimetype: "image/jpeg", bytes: photo.length });
    expect((await edge.agent("POST", "/v1/agent/photos", { photos: [rec] })).body.results[0].status).toBe("new");
    const [{ id }] = await query(edge.databaseUrl, "SELECT id::text AS id FROM photos WHERE message_id = $1", [rec.messageId]);
    const r = await edge.call("GET", `/v1/photos/${id}`, { token: DASHBOARD_TOKEN });
    expect([r.status, r.body.error?.code]).toEqual([404, "not_found"]);
  });

  it("keeps an empty thumbnail as none: its thumbnail route answers 404, not an empty JPEG", async () => {
    const rec = record({ state: "too_large", thumbnail: "" }); // "" is base64 for no bytes
    expect((await edge.agent("POST", "/v1/agent/photos", { photos: [rec] })).body.results).toEqual([{ messageId: rec.messageId, status: "new" }]);
    const [row] = await query(edge.databaseUrl, "SELECT id::text AS id, thumbnail FROM photos WHERE message_id = $1", [rec.messageId]);
    expect(row.thumbnail).toBeNull();
    const r = await edge.call("GET", `/v1/photos/${row.id}/thumbnail`, { token: DASHBOARD_TOKEN });
    expect([r.status, r.body.error?.code]).toEqual([404, "not_found"]);
  });

  it("answers 400 for bad records and 401 without the agent token, and changes nothing", async () => {
    const before = await photoCount();
    const bad = [
      { photos: [] },
      { photos: [record({ state: "stored" })] }, // stored without its hash
      { photos: [record({ sha256: "ABC" })] },
      { photos: [record({ captionDrops: ["dr 1"] })] },
      { photos: [record(), record({ sentAt: "yesterday" })] },
      { photos: Array.from({ length: 101 }, () => record()) },
    ];
    for (const body of bad) {
      const r = await edge.agent("POST", "/v1/agent/photos", body);
      expect([r.status, r.body.error.code]).toEqual([400, "invalid_request"]);
    }
    const notJson = await edge.call("POST", "/v1/agent/photos", { token: AGENT_TOKEN, rawBody: "{", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    for (const token of [null, DASHBOARD_TOKEN]) {
      const r = await edge.call("POST", "/v1/agent/photos", { token, json: { photos: [record()] } });
      expect(r.status).toBe(401);
    }
    expect(await photoCount()).toBe(before);
  });
});
