// Item: very long messages still deliver their drop; rows the edge refuses never vanish silently — they are
// counted in /health and /metrics, and `agent requeue-rejected` puts them back while the agent runs.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { errorBody, SUBMISSION_TEXT_MAX } from "@wa-monitor/shared";
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import type { SimulatedSession } from "../src/whatsapp/simulator.ts";
import { eventually, LAWLEY, simulate, spawnAgent, startEdgeServer, startTestAgent, tempDir, type EdgeServer } from "./helpers.ts";

const run = promisify(execFile);
const main = path.resolve(import.meta.dirname, "../src/main.ts");
let edge: EdgeServer | undefined;
let agent: Agent | undefined;
const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await agent?.stop();
  await edge?.stop();
  agent = undefined;
  edge = undefined;
});

const health = (adminUrl: string) => fetch(`${adminUrl}/health`).then((r) => r.json() as Promise<any>);

describe("outbox limits", () => {
  it("delivers the drop of a message longer than the contract allows, with its text truncated", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    const long = "Installed, photos below. ".repeat(3000) + "DR31313131";
    expect(long.length).toBeGreaterThan(SUBMISSION_TEXT_MAX);
    // Straight into the session (the admin route caps its own input): the same messages.upsert path as live.
    await (agent.sessions.get("primary") as SimulatedSession).inject([{ chatJid: LAWLEY, senderJid: "27821234567@s.whatsapp.net", text: long, id: "LONG-1" }]);
    const [sub] = await eventually(
      () => edge!.query("SELECT drop_number, length(text)::int AS len FROM submissions"),
      (r) => r.length === 1,
    );
    expect(sub).toEqual({ drop_number: "DR31313131", len: SUBMISSION_TEXT_MAX });
    expect(agent.health().outbox).toMatchObject({ pending: 0, rejected: 0 });
  });

  it("counts refused rows in /health and /metrics, and requeue-rejected delivers them while the agent runs", async () => {
    edge = await startEdgeServer();
    // An edge that refuses one particular submission (as a stricter contract would), and takes the rest.
    edge.beforeHandle = async (req) => {
      if (req.method !== "POST" || new URL(req.url).pathname !== "/v1/agent/drops") return undefined;
      if (!(await req.clone().text()).includes("DR77777777")) return undefined;
      return Response.json(errorBody("invalid_request", "invalid body"), { status: 400 });
    };
    const dataDir = await tempDir();
    const child = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(child.child);
    await simulate(child.adminUrl, [
      { session: "primary", text: "DR77777777", id: "REJ-1" },
      { session: "primary", text: "DR77777778", id: "OK-1" },
    ]);
    await eventually(() => health(child.adminUrl), (h) => h.outbox.rejected === 1 && h.outbox.pending === 0);
    const metrics = await (await fetch(`${child.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wa_outbox_rejected 1$/m);
    expect(await edge.query("SELECT drop_number FROM drops")).toEqual([{ drop_number: "DR77777778" }]);

    // The edge is fixed; the operator puts the row back, beside the running agent.
    edge.beforeHandle = undefined;
    const out = await run(process.execPath, [main, "requeue-rejected"], { env: { ...process.env, DATA_DIR: dataDir } });
    expect(out.stdout).toMatch(/^requeued 1 rejected outbox row/);
    await eventually(() => edge!.query("SELECT drop_number FROM drops ORDER BY 1"), (r) => r.length === 2);
    const h = await eventually(() => health(child.adminUrl), (v) => v.outbox.rejected === 0 && v.outbox.pending === 0);
    expect(h.outbox.rejected).toBe(0);
    expect(await (await fetch(`${child.adminUrl}/metrics`)).text()).toMatch(/^wa_outbox_rejected 0$/m);
  }, 60_000);

  it("requeue-rejected names a data directory without a store", async () => {
    const dataDir = path.join(await tempDir(), "nothing-here");
    const err = await run(process.execPath, [main, "requeue-rejected"], { env: { ...process.env, DATA_DIR: dataDir } }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`no agent store at ${path.join(dataDir, "agent.sqlite")}`);
  });
});
