// An edge outage while 200 photos arrive: the agent downloads and keeps them all, uploads nothing while the edge is
// away (backing off, holding nothing against the photos), and when it is back brings each photo up exactly once (one
// PUT per photo, one record each), after the drops that arrived meanwhile.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { jpeg, sha256 } from "./fixtures/images.ts";
import { eventually, simulate, startEdgeServer, startTestAgent, testConfig, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await edge?.stop();
});

const health = (a: Agent) => fetch(`${a.adminUrl}/health`).then((r) => r.json() as Promise<any>);

describe("edge outage with photos pending", () => {
  it("holds 200 photos while the edge is down and uploads each once when it returns", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url, { config: testConfig({ media: { backoff: { initialMs: 50, maxMs: 400 } } }) });
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    await edge.stop();

    const photos = Array.from({ length: 200 }, (_, i) => jpeg(`outage-${i}`));
    const messages = photos.map((p, i) => ({ session: "primary", id: `OUTAGE-${i}`, text: "", image: { data: p.toString("base64"), mimetype: "image/jpeg" } }));
    for (let i = 0; i < messages.length; i += 50) expect((await simulate(agent.adminUrl, messages.slice(i, i + 50))).status).toBe(200);

    // Downloads do not need the edge. Uploads keep trying it, backing off: an unreachable edge is not held against
    // any photo (none is `failing`), and nothing is marked uploaded.
    const down = await eventually(() => health(agent!), (h) => h.media.downloaded === 200 && h.uploads.offline, 60_000);
    expect(down.uploads).toMatchObject({ pending: 200, uploaded: 0, failing: 0 });
    // Drops arrive during the outage too: they will go first.
    const drops = Array.from({ length: 20 }, (_, i) => ({ session: "primary", id: `OUTAGE-DROP-${i}`, text: `DR${50_000_000 + i} done` }));
    expect((await simulate(agent.adminUrl, drops)).status).toBe(200);
    expect((await health(agent)).outbox.pending).toBe(20);
    expect(edge.requests.filter((r) => r.includes("/photos"))).toEqual([]);

    await edge.start();
    const up = await eventually(() => health(agent!), (h) => h.uploads.uploaded === 200, 60_000);
    expect(up.uploads).toMatchObject({ pending: 0, failing: 0, offline: false });
    expect(up.outbox.pending).toBe(0);

    const puts = edge.requests.filter((r) => r.startsWith("PUT /v1/agent/photos/blobs/"));
    expect(puts.sort()).toEqual(photos.map((p) => `PUT /v1/agent/photos/blobs/${sha256(p)}`).sort());
    const rows = await edge.query<{ message_id: string; sha256: string }>("SELECT message_id, sha256 FROM photos");
    expect(new Map(rows.map((r) => [r.message_id, r.sha256]))).toEqual(new Map(photos.map((p, i) => [`OUTAGE-${i}`, sha256(p)])));
    for (const p of photos) {
      const obj = await edge.env.PHOTOS.get(`photos/${sha256(p)}`);
      expect(Buffer.from(await obj!.arrayBuffer()).equals(p)).toBe(true);
    }
    // Each record taken once: none came back as a duplicate of an earlier upload.
    expect(agent.db.prepare("SELECT upload_result, count(*) AS n FROM media GROUP BY 1").all()).toEqual([{ upload_result: "new", n: 200 }]);
    // Drops first: the first photo request came after the last drops batch was answered.
    const firstPhoto = edge.requests.findIndex((r) => r.includes("/photos"));
    const lastDrops = edge.requests.lastIndexOf("POST /v1/agent/drops");
    expect(lastDrops).toBeGreaterThanOrEqual(0);
    expect(firstPhoto).toBeGreaterThan(lastDrops);
  }, 120_000);
});
