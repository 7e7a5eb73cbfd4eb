// The agent as a real child process, killed in the middle of an image download (the simulated media host has
// sent half the file and holds the rest): the record is in the store with its message, no half image is, and
// the restarted agent downloads it. And a SIGTERM during a download abandons it at once, keeping the record.
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../tools/ports.ts";
import { jpegNoise, sha256 } from "./fixtures/images.ts";
import { eventually, simulate, spawnAgent, tempDir } from "./helpers.ts";

const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

async function agentMidDownload(dataDir: string, mediaPort: number, edgeUrl: string, photo: Buffer) {
  const agent = await spawnAgent({
    edgeUrl,
    dataDir,
    env: { SIMULATOR_MEDIA_PORT: String(mediaPort), SIMULATOR_MEDIA_STALL_MS: "600000" },
  });
  children.push(agent.child);
  const r = await simulate(agent.adminUrl, [
    { session: "primary", id: "KILL-IMG", text: "DR12345678 ont", image: { data: photo.toString("base64"), mimetype: "image/jpeg" } } as any,
  ]);
  expect(r.status).toBe(200);
  // The host has answered and sent the first half: the agent is reading the rest.
  await eventually(
    () => fetch(`${agent.adminUrl}/simulate/media`).then((res) => res.json() as Promise<any>),
    (b) => b.files[0]?.requests === 1,
  );
  return agent;
}

const health = (adminUrl: string) => fetch(`${adminUrl}/health`).then((r) => r.json() as Promise<any>);

describe("agent process with images", () => {
  it("loses nothing when SIGKILLed mid-download, and finishes the download after a restart", async () => {
    const dataDir = await tempDir();
    const mediaPort = await freePort();
    const edgeUrl = `http://127.0.0.1:${await freePort()}`; // no edge: images do not need it
    const photo = jpegNoise(256 * 1024);
    const first = await agentMidDownload(dataDir, mediaPort, edgeUrl, photo);
    first.child.kill("SIGKILL");
    await first.exited;

    const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
    expect(db.prepare("SELECT message_id, state, attempts, sha256 FROM media").all()).toEqual([
      { message_id: "KILL-IMG", state: "pending_download", attempts: 0, sha256: null },
    ]);
    expect(db.prepare("SELECT count(*) AS n FROM media_blobs").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT message_id, drop_number FROM outbox").all()).toEqual([{ message_id: "KILL-IMG", drop_number: "DR12345678" }]);
    db.close();

    // The same media host address (WhatsApp's servers do not move when the agent restarts), answering in full now.
    const second = await spawnAgent({ edgeUrl, dataDir, env: { SIMULATOR_MEDIA_PORT: String(mediaPort) } });
    children.push(second.child);
    const h = await eventually(() => health(second.adminUrl), (b) => b.media.downloaded === 1);
    expect(h.media).toMatchObject({ pending: 0, downloaded: 1, failed: 0, blobs: 1, blobBytes: photo.length });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const after = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
    expect(after.prepare("SELECT message_id, state, sha256 FROM media").all()).toEqual([{ message_id: "KILL-IMG", state: "downloaded", sha256: sha256(photo) }]);
    expect((after.prepare("SELECT bytes FROM media_blobs").get() as { bytes: Buffer }).bytes.equals(photo)).toBe(true);
    after.close();
  }, 90_000);

  it("abandons a download on SIGTERM, exits 0 at once and keeps the record pending", async () => {
    const dataDir = await tempDir();
    const agent = await agentMidDownload(dataDir, await freePort(), `http://127.0.0.1:${await freePort()}`, jpegNoise(64 * 1024));
    const t0 = Date.now();
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    // Well inside the 10 s shutdown limit; the stalled download alone would hold it for a minute.
    expect(Date.now() - t0).toBeLessThan(10_000);
    const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
    expect(db.prepare("SELECT state, attempts FROM media").all()).toEqual([{ state: "pending_download", attempts: 0 }]);
    db.close();
  }, 60_000);
});
