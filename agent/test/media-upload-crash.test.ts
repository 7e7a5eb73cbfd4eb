// The agent as a real child process, SIGKILLed during an image upload — in the middle of a photo's PUT, and after
// the edge committed its records but before the answer arrived — then restarted on the same data directory:
// nothing lost, nothing doubled (one record per message, one object per photo, its exact bytes).
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../tools/ports.ts";
import { callWorker } from "../../tools/worker.ts";
import { jpegNoise, sha256 } from "./fixtures/images.ts";
import { eventually, simulate, spawnAgent, startEdgeServer, tempDir, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await edge?.stop();
  edge = undefined;
});

const config = testConfig({ media: { backoff: { initialMs: 50, maxMs: 400 } } });
const health = (adminUrl: string) => fetch(`${adminUrl}/health`).then((r) => r.json() as Promise<any>);

async function agentOn(dataDir: string, mediaPort: number) {
  const agent = await spawnAgent({ edgeUrl: edge!.url, dataDir, config, env: { SIMULATOR_MEDIA_PORT: String(mediaPort) } });
  children.push(agent.child);
  return agent;
}

function post(adminUrl: string, photos: Buffer[], prefix: string) {
  return simulate(
    adminUrl,
    photos.map((p, i) => ({ session: "primary", id: `${prefix}-${i}`, text: "", image: { data: p.toString("base64"), mimetype: "image/jpeg" } })),
  );
}

function localUploads(dataDir: string) {
  const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT message_id, state, uploaded_at IS NOT NULL AS uploaded, upload_result FROM media ORDER BY message_id").all();
  } finally {
    db.close();
  }
}

async function expectAtEdge(photos: Buffer[], prefix: string) {
  const rows = await edge!.query<{ message_id: string; sha256: string }>("SELECT message_id, sha256 FROM photos ORDER BY message_id");
  expect(rows).toEqual(photos.map((p, i) => ({ message_id: `${prefix}-${i}`, sha256: sha256(p) })));
  for (const p of photos) {
    const obj = await edge!.env.PHOTOS.get(`photos/${sha256(p)}`);
    expect(Buffer.from(await obj!.arrayBuffer()).equals(p)).toBe(true);
  }
}

describe("agent process killed during an image upload", () => {
  it("killed mid-PUT: the edge stores nothing of the cut upload, and the restarted agent uploads each photo once", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const mediaPort = await freePort();
    // The first photo is larger than the socket buffers between agent and edge can hold, so the agent is still
    // sending it when it dies; the others are phone-sized.
    const photos = [jpegNoise(8 * 1024 * 1024), jpegNoise(180_000), jpegNoise(300_000)];
    // The first PUT is held at the edge's door with its body unread; the agent dies while sending it.
    let arrived!: (sha: string) => void;
    const putArrived = new Promise<string>((r) => (arrived = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let cut: Promise<number> | undefined;
    edge.beforeHandle = async (req) => {
      if (req.method !== "PUT" || !new URL(req.url).pathname.startsWith("/v1/agent/photos/blobs/") || cut) return undefined;
      let answered!: (status: number) => void;
      cut = new Promise((r) => (answered = r));
      arrived(new URL(req.url).pathname.split("/").pop()!);
      await held;
      const res = await callWorker(req, edge!.env).catch(() => new Response(null, { status: 599 }));
      answered(res.status);
      return res;
    };

    const first = await agentOn(dataDir, mediaPort);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    expect((await post(first.adminUrl, photos, "CUT")).status).toBe(200);
    const sha = await putArrived;
    first.child.kill("SIGKILL");
    await first.exited;
    release();
    expect(await cut).not.toBe(200);
    expect(await edge.env.PHOTOS.head(`photos/${sha}`)).toBeNull();
    expect(await edge.query("SELECT count(*)::int AS n FROM photos")).toEqual([{ n: 0 }]);
    expect((localUploads(dataDir) as { uploaded: number }[]).every((r) => r.uploaded === 0)).toBe(true);

    const second = await agentOn(dataDir, mediaPort);
    await eventually(() => health(second.adminUrl), (h) => h.uploads.uploaded === 3, 60_000);
    await expectAtEdge(photos, "CUT");
    // One stored upload per photo: the cut one again, the others for the first time.
    const puts = edge.requests.filter((r) => r.startsWith("PUT /v1/agent/photos/blobs/"));
    expect(puts.sort()).toEqual([...photos.map((p) => `PUT /v1/agent/photos/blobs/${sha256(p)}`), `PUT /v1/agent/photos/blobs/${sha}`].sort());
    expect(localUploads(dataDir)).toEqual(photos.map((_, i) => ({ message_id: `CUT-${i}`, state: "downloaded", uploaded: 1, upload_result: "new" })));
  }, 120_000);

  it("killed after the edge committed the records: the restart sends them again as duplicates, and no bytes twice", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const mediaPort = await freePort();
    const photos = [jpegNoise(150_000), jpegNoise(210_000)];
    let committed!: () => void;
    const recordsCommitted = new Promise<void>((r) => (committed = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    edge.afterHandle = async (req) => {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/agent/photos") return;
      edge!.afterHandle = undefined;
      committed();
      await held;
    };

    const first = await agentOn(dataDir, mediaPort);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    expect((await post(first.adminUrl, photos, "LOST")).status).toBe(200);
    await recordsCommitted;
    first.child.kill("SIGKILL");
    await first.exited;
    release();
    const before = await edge.query("SELECT count(*)::int AS n FROM photos");
    expect(before[0].n).toBeGreaterThan(0);
    expect((localUploads(dataDir) as { uploaded: number }[]).every((r) => r.uploaded === 0)).toBe(true);

    const second = await agentOn(dataDir, mediaPort);
    await eventually(() => health(second.adminUrl), (h) => h.uploads.uploaded === 2, 60_000);
    await expectAtEdge(photos, "LOST");
    expect(edge.requests.filter((r) => r.startsWith("PUT /v1/agent/photos/blobs/")).sort()).toEqual(photos.map((p) => `PUT /v1/agent/photos/blobs/${sha256(p)}`).sort());
    const results = (localUploads(dataDir) as { upload_result: string }[]).map((r) => r.upload_result);
    // What the edge had committed comes back as a duplicate; nothing is recorded twice.
    expect(results.filter((r) => r === "duplicate")).toHaveLength(before[0].n);
    expect(results.filter((r) => r === "new")).toHaveLength(2 - before[0].n);
  }, 120_000);
});
