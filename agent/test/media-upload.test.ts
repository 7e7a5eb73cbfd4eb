// Images from the groups to the edge, on real parts: the agent on simulated WhatsApp (real encrypted media, Baileys'
// decrypting download), the Worker's fetch handler on a real Postgres and a real local R2 bucket. The bytes arrive
// exactly, once per content; each image message is one record, with the drops its caption and the message it
// replies to name; drops still go first; what the edge cannot take yet is retried.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { GIF, JPEG, jpeg, sha256 } from "./fixtures/images.ts";
import { DASHBOARD_TOKEN, eventually, PROJECTS, simulate, startEdgeServer, startTestAgent, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
const agents: Agent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await edge?.stop();
  edge = undefined;
});

const config = () => testConfig({ media: { backoff: { initialMs: 50, maxMs: 400 } } });
const VELO = PROJECTS[1]!.groupJid;

async function start(): Promise<Agent> {
  edge ??= await startEdgeServer();
  const agent = await startTestAgent(edge.url, { config: config() });
  agents.push(agent);
  await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
  return agent;
}

const image = (bytes: Buffer, mimetype = "image/jpeg") => ({ data: bytes.toString("base64"), mimetype });
const health = (a: Agent) => fetch(`${a.adminUrl}/health`).then((r) => r.json() as Promise<any>);
const uploaded = (a: Agent, n: number) => eventually(() => health(a), (h) => h.uploads.uploaded === n && h.uploads.pending === 0);
const requests = (what: string) => edge!.requests.filter((r) => r === what || r.startsWith(`${what}/`)).length;
const puts = () => edge!.requests.filter((r) => r.startsWith("PUT /v1/agent/photos/blobs/"));
const inR2 = async (sha: string) => {
  const obj = await edge!.env.PHOTOS.get(`photos/${sha}`);
  return obj ? Buffer.from(await obj.arrayBuffer()) : null;
};
const photoRow = async (messageId: string) =>
  (await edge!.query("SELECT session, state, sha256, mimetype, bytes, caption, quoted_id, caption_drops, quoted_drops, thumbnail, kind FROM photos WHERE message_id = $1", [messageId]))[0];

describe("image uploads to the edge", () => {
  it("brings each image's exact bytes and its record, with the drops its caption and its quoted message name", async () => {
    const agent = await start();
    const captioned = jpeg("captioned");
    const reply = jpeg("reply");
    await simulate(agent.adminUrl, [{ session: "primary", id: "DROP-MSG", text: "DR12345678 installed" }]);
    await simulate(agent.adminUrl, [
      { session: "primary", id: "IMG-CAPTION", text: "DR23456789 ONT barcode", image: image(captioned) },
      { session: "primary", id: "IMG-REPLY", text: "", quotedId: "DROP-MSG", image: image(reply) },
      { session: "primary", id: "IMG-GIF", text: "gif", image: image(GIF, "image/gif") },
    ]);
    const h = await uploaded(agent, 3);
    expect(h.uploads).toMatchObject({ pending: 0, uploaded: 3, failing: 0, offline: false });

    expect(await photoRow("IMG-CAPTION")).toMatchObject({
      session: "primary", state: "stored", sha256: sha256(captioned), mimetype: "image/jpeg", bytes: captioned.length,
      caption: "DR23456789 ONT barcode", caption_drops: ["DR23456789"], quoted_drops: [], kind: "image",
    });
    expect(await photoRow("IMG-REPLY")).toMatchObject({ state: "stored", quoted_id: "DROP-MSG", caption_drops: [], quoted_drops: ["DR12345678"] });
    expect(await photoRow("IMG-GIF")).toMatchObject({ state: "unsupported", sha256: null, bytes: null });
    expect((await inR2(sha256(captioned)))!.equals(captioned)).toBe(true);
    expect((await inR2(sha256(reply)))!.equals(reply)).toBe(true);
    // WhatsApp's embedded thumbnail, as the message carried it.
    const local = agent.db.prepare("SELECT thumbnail FROM media WHERE message_id = 'IMG-CAPTION'").get() as { thumbnail: Buffer };
    expect(local.thumbnail.length).toBeGreaterThan(0);
    expect(Buffer.from((await photoRow("IMG-CAPTION")).thumbnail).equals(local.thumbnail)).toBe(true);
    // A captioned photo is drop text as well.
    expect((await edge!.query("SELECT drop_number FROM drops ORDER BY 1")).map((r) => r.drop_number)).toEqual(["DR12345678", "DR23456789"]);

    // Linked on arrival, as QA sees them beside each drop: by the caption, and by the drop message replied to.
    const photosOf = async (drop: string) => {
      const r = await fetch(`${edge!.url}/v1/drops/${drop}`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } });
      return ((await r.json()) as { photos: { messageId: string; linkedBy: string; sha256: string | null }[] }).photos;
    };
    expect(await photosOf("DR23456789")).toContainEqual(expect.objectContaining({ messageId: "IMG-CAPTION", linkedBy: "caption", sha256: sha256(captioned) }));
    expect(await photosOf("DR12345678")).toContainEqual(expect.objectContaining({ messageId: "IMG-REPLY", linkedBy: "reply", sha256: sha256(reply) }));

    expect(agent.db.prepare("SELECT message_id, upload_result FROM media ORDER BY id").all()).toEqual([
      { message_id: "IMG-CAPTION", upload_result: "new" },
      { message_id: "IMG-REPLY", upload_result: "new" },
      { message_id: "IMG-GIF", upload_result: "new" },
    ]);
    const metrics = await (await fetch(`${agent.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/wa_media_upload\{state="uploaded"\} 3/);
    expect(metrics).toMatch(/wa_media_upload\{state="pending"\} 0/);
    expect(metrics).toMatch(/wa_media_blob_uploads_total\{outcome="stored"\} 2/);
  });

  it("makes a thumbnail when the message carries none (an image sent as a document)", async () => {
    const agent = await start();
    await simulate(agent.adminUrl, [{ session: "primary", id: "IMG-DOC", text: "", image: { ...image(JPEG), fileName: "house.jpg" } }]);
    await uploaded(agent, 1);
    expect(agent.db.prepare("SELECT kind, thumbnail FROM media").get()).toEqual({ kind: "document", thumbnail: null });
    const row = await photoRow("IMG-DOC");
    expect(row).toMatchObject({ kind: "document", state: "stored" });
    const thumb = Buffer.from(row.thumbnail);
    expect(thumb.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(thumb.equals(JPEG)).toBe(false); // made here, not the file itself
  });

  it("uploads a photo once when primary and backup both see it, and its bytes once for every message sharing them", async () => {
    const agent = await start();
    const photo = jpeg("both-sessions");
    const same = { id: "IMG-BOTH", text: "DR34567890 pole", image: image(photo) };
    await simulate(agent.adminUrl, [{ session: "primary", ...same }, { session: "backup", ...same }]);
    // Another message with the same picture (forwarded): a record of its own, the same bytes.
    await simulate(agent.adminUrl, [{ session: "backup", id: "IMG-FORWARD", text: "", image: image(photo) }]);
    await uploaded(agent, 2);
    expect(puts()).toEqual([`PUT /v1/agent/photos/blobs/${sha256(photo)}`]);
    expect(await edge!.query("SELECT message_id, session, sha256 FROM photos ORDER BY message_id")).toEqual([
      { message_id: "IMG-BOTH", session: "primary", sha256: sha256(photo) },
      { message_id: "IMG-FORWARD", session: "backup", sha256: sha256(photo) },
    ]);

    // A second agent (another host) with the same groups and the same message: the edge has the bytes and the record.
    const other = await startTestAgent(edge!.url, { config: config() });
    agents.push(other);
    await simulate(other.adminUrl, [{ session: "primary", ...same }]);
    await uploaded(other, 1);
    expect(other.db.prepare("SELECT upload_result FROM media").get()).toEqual({ upload_result: "duplicate" });
    expect(puts()).toHaveLength(1);
    expect(await edge!.query("SELECT count(*)::int AS n FROM photos WHERE message_id = 'IMG-BOTH'")).toEqual([{ n: 1 }]);
  });

  it("keeps an image of a group the edge does not know, pushes the projects again, and uploads it then", async () => {
    const agent = await start();
    await edge!.query("DELETE FROM projects WHERE group_jid = $1", [VELO]);
    const pushes = requests("PUT /v1/agent/projects");
    await simulate(agent.adminUrl, [{ session: "primary", chatJid: VELO, id: "IMG-VELO", text: "", image: image(jpeg("velo")) }]);
    await uploaded(agent, 1);
    expect(requests("PUT /v1/agent/projects")).toBeGreaterThan(pushes);
    expect(agent.db.prepare("SELECT upload_result, upload_attempts FROM media").get()).toEqual({ upload_result: "new", upload_attempts: 1 });
    expect(await edge!.query("SELECT p.name FROM photos JOIN projects p ON p.id = project_id")).toEqual([{ name: PROJECTS[1]!.name }]);
  });

  it("uploads the bytes again when the edge answers missing_bytes", async () => {
    edge = await startEdgeServer();
    const photo = jpeg("lost-at-the-edge");
    const sha = sha256(photo);
    // The edge has the bytes when the agent asks, and loses them before the record arrives.
    await edge.env.PHOTOS.put(`photos/${sha}`, new Uint8Array(photo), { httpMetadata: { contentType: "image/jpeg" } });
    edge.afterHandle = async (req) => {
      if (req.method === "HEAD" && new URL(req.url).pathname.endsWith(sha)) await edge!.env.PHOTOS.delete(`photos/${sha}`);
    };
    const agent = await start();
    await simulate(agent.adminUrl, [{ session: "primary", id: "IMG-LOST", text: "", image: image(photo) }]);
    await uploaded(agent, 1);
    expect(edge.requests.filter((r) => r.includes("/photos"))).toEqual([
      `HEAD /v1/agent/photos/blobs/${sha}`,
      "POST /v1/agent/photos",
      `PUT /v1/agent/photos/blobs/${sha}`,
      "POST /v1/agent/photos",
    ]);
    expect((await inR2(sha))!.equals(photo)).toBe(true);
    expect(await photoRow("IMG-LOST")).toMatchObject({ state: "stored", sha256: sha });
  });

  it("starts no upload while the edge is taking drops", async () => {
    const agent = await start();
    // Photo uploads fail at first, so a downloaded photo waits for its upload...
    let photosDown = true;
    let dropsArrived!: () => void;
    const arrived = new Promise<void>((r) => (dropsArrived = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    edge!.beforeHandle = async (req) => {
      const path = new URL(req.url).pathname;
      if (path.startsWith("/v1/agent/photos") && photosDown) return new Response("{}", { status: 503 });
      if (path === "/v1/agent/drops") {
        dropsArrived();
        await held;
      }
      return undefined;
    };
    await simulate(agent.adminUrl, [{ session: "primary", id: "IMG-WAITING", text: "", image: image(jpeg("waiting")) }]);
    await eventually(() => health(agent), (h) => h.media.downloaded === 1 && h.uploads.offline);
    // ...then drops arrive and are being delivered (held at the edge) while photo uploads could go again.
    await simulate(agent.adminUrl, [{ session: "primary", id: "DROP-FIRST", text: "DR45678901 done" }]);
    await arrived;
    photosDown = false;
    // No bytes and no records go up. (A HEAD the uploader sent before the drop was stored may still arrive: it
    // only asks; the PUT it would lead to waits for the drops.)
    const uploadRequests = () => edge!.requests.filter((r) => r.startsWith("PUT /v1/agent/photos") || r === "POST /v1/agent/photos").length;
    const before = uploadRequests();
    // Longer than the upload loop's longest backoff (400 ms): it would have tried again by now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(uploadRequests()).toBe(before);
    expect((await health(agent)).uploads).toMatchObject({ pending: 1, uploaded: 0 });

    release();
    await uploaded(agent, 1);
    expect(agent.db.prepare("SELECT result FROM outbox").get()).toEqual({ result: "new" });
  });

  it("keeps a few photos' bytes going up at once, never more, so a distant edge does not bound uploads", async () => {
    const agent = await start();
    // Photo requests fail until all ten are downloaded, so one pass has them all to upload. Then each PUT is held at
    // the edge (stored, its answer not yet sent) until the test lets it go.
    let photosDown = true;
    edge!.beforeHandle = async (req) =>
      photosDown && new URL(req.url).pathname.startsWith("/v1/agent/photos") ? new Response("{}", { status: 503 }) : undefined;
    let inFlight = 0;
    let most = 0;
    const waiting: (() => void)[] = [];
    edge!.afterHandle = async (req) => {
      if (req.method !== "PUT") return;
      most = Math.max(most, ++inFlight);
      await new Promise<void>((r) => waiting.push(r));
      inFlight--;
    };
    const photos = Array.from({ length: 10 }, (_, i) => jpeg(`parallel-${i}`));
    await simulate(agent.adminUrl, photos.map((p, i) => ({ session: "primary", id: `IMG-PAR-${i}`, text: "", image: image(p) })));
    await eventually(() => health(agent), (h) => h.media.downloaded === 10 && h.uploads.offline);
    photosDown = false;
    // Several PUTs are held at once: the uploader did not wait for one answer before the next request.
    await eventually(async () => waiting.length, (n) => n === 4);
    const release = setInterval(() => waiting.splice(0).forEach((r) => r()), 20);
    try {
      await uploaded(agent, 10);
    } finally {
      clearInterval(release);
    }
    expect(most).toBe(4);
    expect(puts().sort()).toEqual(photos.map((p) => `PUT /v1/agent/photos/blobs/${sha256(p)}`).sort());
  });

  it("sends no bytes after a HEAD whose answer came while drops were due", async () => {
    const agent = await start();
    // The HEAD is held at the edge; meanwhile a drop arrives and its delivery is held too.
    let headArrived!: () => void;
    const headSeen = new Promise<void>((r) => (headArrived = r));
    let releaseHead!: () => void;
    const headHeld = new Promise<void>((r) => (releaseHead = r));
    let dropsArrived!: () => void;
    const dropsSeen = new Promise<void>((r) => (dropsArrived = r));
    let releaseDrops!: () => void;
    const dropsHeld = new Promise<void>((r) => (releaseDrops = r));
    const order: string[] = [];
    edge!.afterHandle = async (req) => {
      const path = new URL(req.url).pathname;
      if (req.method === "HEAD" && path.startsWith("/v1/agent/photos/blobs/")) {
        headArrived();
        await headHeld;
      }
      if (path === "/v1/agent/drops") {
        dropsArrived();
        await dropsHeld;
        order.push("drops answered");
      }
      if (req.method === "PUT") order.push("PUT");
    };
    await simulate(agent.adminUrl, [{ session: "primary", id: "IMG-RACE", text: "", image: image(jpeg("race")) }]);
    await headSeen;
    await simulate(agent.adminUrl, [{ session: "primary", id: "DROP-RACE", text: "DR56789012 done" }]);
    await dropsSeen;
    releaseHead();
    // Time enough for a PUT to follow the HEAD's answer, if one were going to.
    await new Promise((r) => setTimeout(r, 1000));
    releaseDrops();
    await uploaded(agent, 1);
    expect(order).toEqual(["drops answered", "PUT"]);
  });
});
