// `npm run demo` end to end: embedded Postgres, the edge in workerd under wrangler dev, the agent process on
// the simulator transport — a simulated WhatsApp message shows up in the dashboard feed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../ports.ts";
import { fireCron } from "../edge-dev.ts";
import { startStack, type Stack } from "../stack.ts";
import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

let stack: Stack;
const output: string[] = [];

beforeAll(async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "wam-stack-"));
  await chmod(dataDir, 0o755); // as root, Postgres runs as the postgres user and must reach its folder
  stack = await startStack({
    dataDir,
    pgPort: await freePort(),
    proxyPort: await freePort(),
    edgePort: await freePort(),
    adminPort: await freePort(),
    databaseUrl: undefined,
    agent: "simulator",
    logger: (name) => (line) => output.push(`[${name}] ${line}`),
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the local stack with the simulator", () => {
  it("serves health on both parts", async () => {
    expect(await (await fetch(`${stack.edgeUrl}/health`)).json()).toEqual({ status: "ok", db: "ok" });
    const agent = (await (await fetch(`${stack.agentUrl}/health`)).json()) as any;
    expect(agent.sessions.map((s: any) => [s.name, s.state])).toEqual([
      ["primary", "open"],
      ["backup", "open"],
      ["sender", "open"],
    ]);
  });

  it("shows a simulated drop in GET /v1/drops", async () => {
    const post = await fetch(`${stack.agentUrl}/simulate/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: ["primary", "backup"].map((session) => ({
          session,
          chatJid: "120363421532174586@g.us",
          senderJid: "27845550123@s.whatsapp.net",
          senderName: "Sipho",
          text: "DR98765432 done ✅",
          id: "STACK-1",
        })),
      }),
    });
    expect(post.status).toBe(200);
    let items: any[] = [];
    for (let i = 0; i < 100 && !items.length; i++) {
      const res = await fetch(`${stack.edgeUrl}/v1/drops?project=Mohadin`, {
        headers: { authorization: `Bearer ${stack.tokens.DASHBOARD_TOKEN}` },
      });
      items = ((await res.json()) as any).items;
      if (!items.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(items).toMatchObject([{ dropNumber: "DR98765432", project: "Mohadin", status: "new", senderPhone: "+27845550123" }]);
  });

  it("sends QA feedback for an incomplete review through the agent after the cron runs", async () => {
    const auth = { authorization: `Bearer ${stack.tokens.DASHBOARD_TOKEN}`, "content-type": "application/json" };
    const review = await fetch(`${stack.edgeUrl}/v1/drops/DR98765432/review`, {
      method: "PATCH",
      headers: auth,
      body: JSON.stringify({ steps: { house_photo: true, green_lights: true }, status: "incomplete", reviewer: "QA", comment: "Photos of the wall missing" }),
    });
    expect(review.status).toBe(200);
    expect(await fireCron(stack.edgeUrl)).toBe(200);
    let sent: any[] = [];
    for (let i = 0; i < 150 && !sent.length; i++) {
      sent = ((await (await fetch(`${stack.agentUrl}/simulate/sent`)).json()) as any).messages;
      if (!sent.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(sent).toMatchObject([{ session: "sender", chatJid: "120363421532174586@g.us" }]);
    expect(sent[0].text).toContain("Missing: Cable from pole, Cable entry outside");
    let drop: any;
    for (let i = 0; i < 50; i++) {
      drop = await (await fetch(`${stack.edgeUrl}/v1/drops/DR98765432`, { headers: auth })).json();
      if (drop.feedbackSentAt) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(drop.feedbackSentAt).toEqual(expect.any(String));
  });
});
