// One agent per data directory, as real processes of the production entry point: a second agent is refused
// quickly and leaves the first alone; a lock left by a killed agent is taken over, and says so.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, launchAgent, simulate, spawnAgent, startEdgeServer, startTestAgent, tempDir, type EdgeServer } from "./helpers.ts";

const run = promisify(execFile);
let edge: EdgeServer | undefined;
const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await edge?.stop();
});

const health = (adminUrl: string) => fetch(`${adminUrl}/health`).then((r) => r.json() as Promise<any>);

describe("one agent per data directory", () => {
  it("refuses a second agent on a held DATA_DIR within 5 s, naming the directory and the holder, and leaves the first alone", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const first = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(first.child);

    const t0 = Date.now();
    const second = await launchAgent({ edgeUrl: edge.url, dataDir });
    children.push(second.child);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000))]);
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(second.output()).toContain(`DATA_DIR ${path.resolve(dataDir)} is in use by another agent (pid ${first.child.pid})`);

    // The first keeps running and storing.
    expect(first.child.exitCode).toBeNull();
    await simulate(first.adminUrl, [{ session: "primary", text: "DR15151515", id: "LOCK-1" }]);
    await eventually(() => edge!.query("SELECT drop_number FROM drops"), (r) => r.length === 1);
    expect((await health(first.adminUrl)).outbox.pending).toBe(0);

    // One-off commands work beside it.
    const main = path.resolve(import.meta.dirname, "../src/main.ts");
    const backup = path.join(await tempDir(), "b.sqlite");
    await run(process.execPath, [main, "backup", backup], { env: { ...process.env, DATA_DIR: dataDir } });
    const requeue = await run(process.execPath, [main, "requeue-rejected"], { env: { ...process.env, DATA_DIR: dataDir } });
    expect(requeue.stdout).toMatch(/^requeued 0 /);
  }, 60_000);

  it("takes over the lock of a killed agent and logs the takeover with its pid", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const first = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(first.child);
    const oldPid = first.child.pid;
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(second.child);
    await eventually(async () => second.output(), (out) => new RegExp(`took over the data directory from agent pid ${oldPid}\\b`).test(out));
    await simulate(second.adminUrl, [{ session: "primary", text: "DR16161616", id: "LOCK-2" }]);
    await eventually(() => edge!.query("SELECT drop_number FROM drops"), (r) => r.length === 1);

    // A clean stop releases the lock without leaving a takeover behind.
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    const third = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(third.child);
    expect(third.output()).not.toContain("took over");
  }, 60_000);

  it("holds for in-process agents too (the simulator transport included)", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const a = await startTestAgent(edge.url, { dataDir });
    try {
      await expect(startTestAgent(edge.url, { dataDir })).rejects.toThrow(`is in use by another agent (pid ${process.pid})`);
    } finally {
      await a.stop();
    }
    const b = await startTestAgent(edge.url, { dataDir });
    await b.stop();
  });
});
