// Drops go first, with the real edge: while a batch of drops is on its way to the edge, no image download
// starts; once the edge has them, the image comes.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { jpeg } from "./fixtures/images.ts";
import { eventually, simulate, startEdgeServer, startTestAgent, type EdgeServer } from "./helpers.ts";

let edge: EdgeServer | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await edge?.stop();
  agent = undefined;
  edge = undefined;
});

describe("drops before images", () => {
  it("holds image downloads while the edge is taking drops", async () => {
    edge = await startEdgeServer();
    agent = await startTestAgent(edge.url);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);
    let arrived!: () => void;
    const dropsArrived = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    edge.beforeHandle = async (req) => {
      if (new URL(req.url).pathname !== "/v1/agent/drops") return undefined;
      arrived();
      await held;
      return undefined;
    };
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678 done", id: "DROP" }]);
    await dropsArrived;
    await simulate(agent.adminUrl, [{ session: "primary", text: "", id: "PHOTO", image: { data: jpeg("after").toString("base64"), mimetype: "image/jpeg" } } as any]);
    // Room for a download to happen if it were going to (it takes a few milliseconds once started).
    await new Promise((r) => setTimeout(r, 1000));
    const requests = () => agent!.simulator!.media!.files().reduce((n, f) => n + f.requests, 0);
    expect(requests()).toBe(0);
    expect(agent.db.prepare("SELECT state FROM media").get()).toEqual({ state: "pending_download" });

    release();
    await eventually(async () => agent!.db.prepare("SELECT state FROM media").get() as any, (r) => r.state === "downloaded");
    expect(agent.db.prepare("SELECT result FROM outbox").get()).toEqual({ result: "new" });
    expect(requests()).toBe(1);
  });
});
