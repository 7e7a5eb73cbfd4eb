// The heartbeat keeps its pace through an edge outage, and says so once when it starts and once when it ends,
// not at every beat.
import { createServer, type Server } from "node:http";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../tools/ports.ts";
import { edgeClient } from "../src/sync/edge-client.ts";
import { startHeartbeat } from "../src/sync/heartbeat.ts";
import { eventually } from "./helpers.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

describe("heartbeat", () => {
  it("logs a failing edge once, however many beats fail, and its return once", async () => {
    const port = await freePort();
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    let beats = 0;
    const heartbeat = startHeartbeat({
      edge: edgeClient(`http://127.0.0.1:${port}`, "agent-test-token-0123456789"),
      agent: "test",
      everyMs: 20,
      sessions: () => (beats++, []),
      log,
    });
    // Nothing listens on the port yet: at least three beats fail.
    await eventually(async () => beats, (n) => n >= 4);
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    });
    await new Promise<void>((r) => server!.listen(port, "127.0.0.1", r));
    await eventually(async () => lines.length, (n) => n >= 2);
    const after = beats;
    await eventually(async () => beats, (n) => n >= after + 2);
    await heartbeat.stop();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, "heartbeat failed"],
      [30, "heartbeat delivered again"],
    ]);
  });
});
