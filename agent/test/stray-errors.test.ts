// A stray promise rejection or exception anywhere in the process must not take every session down with it:
// the production entry point logs it and keeps running.
import { pathToFileURL } from "node:url";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, spawnAgent, tempDir } from "./helpers.ts";

let child: Awaited<ReturnType<typeof spawnAgent>> | undefined;

afterEach(async () => {
  if (child && child.child.exitCode === null) {
    child.child.kill("SIGTERM");
    await child.exited;
  }
  child = undefined;
});

describe("stray errors", () => {
  it("are logged, and the agent keeps running and answering", async () => {
    const preload = pathToFileURL(path.resolve(import.meta.dirname, "fixtures/stray-errors.mjs")).href;
    child = await spawnAgent({ edgeUrl: "http://127.0.0.1:9", dataDir: await tempDir(), nodeArgs: ["--import", preload] });
    child.child.kill("SIGUSR2");
    const lines = await eventually(
      async () => child!.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; err?: { message: string } }),
      (ls) => ls.some((l) => l.err?.message === "stray exception") || child!.child.exitCode !== null,
      10_000,
    );
    expect(child.child.exitCode).toBeNull();
    expect(lines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/unhandled promise rejection/), err: expect.objectContaining({ message: "stray rejection" }) }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/uncaught exception/), err: expect.objectContaining({ message: "stray exception" }) }));
    const health = await fetch(`${child.adminUrl}/health`);
    expect(health.status).toBe(200);
    expect(child.child.exitCode).toBeNull();
  });
});
