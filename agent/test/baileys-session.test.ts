// Live sessions on real Baileys sockets, pointed at a local WebSocket server instead of WhatsApp (which this
// machine cannot reach). The server either hangs up at once or stays silent; what WhatsApp would say next
// (a QR code, a logout, a takeover) is emitted on the real socket's own event emitter.
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { eventually } from "./helpers.ts";
import { closeWith, fakeWhatsApp as startFakeWhatsApp, liveAgent as startLiveAgent, type FakeMode, type FakeWhatsApp, type LiveAgentOptions } from "./live-whatsapp.ts";

let agent: Agent | undefined;
let wa: FakeWhatsApp | undefined;

afterEach(async () => {
  await agent?.stop();
  await wa?.close();
  agent = undefined;
  wa = undefined;
});

async function fakeWhatsApp(mode: FakeMode) {
  return (wa = await startFakeWhatsApp(mode));
}

async function liveAgent(wsUrl: string, tweak?: LiveAgentOptions["tweak"]) {
  const live = await startLiveAgent(wsUrl, { tweak });
  agent = live.agent;
  return live;
}

const state = (a: Agent) => a.sessions.get("primary")!.status().state;

describe("live Baileys sessions", () => {
  it("reconnects with backoff when the connection drops", async () => {
    const wa = await fakeWhatsApp("hang-up");
    const { agent } = await liveAgent(wa.url);
    await eventually(async () => wa.connections(), (n) => n >= 3, 15_000);
    // Between two attempts it waits, and says so (while an attempt runs, the detail is empty).
    const waiting = await eventually(async () => agent.sessions.get("primary")!.status(), (s) => /retry in \d+ ms/.test(s.detail ?? ""));
    expect(waiting.state).toBe("connecting");
  });

  it("shows a QR code in the terminal and on the admin page", async () => {
    const wa = await fakeWhatsApp("silent");
    const { agent, sockets, qrs } = await liveAgent(wa.url);
    await eventually(async () => sockets.length, (n) => n === 1);
    sockets[0]!.ev.emit("connection.update", { qr: "2@fakeRef,fakeNoise,fakeIdentity,fakeAdv" });
    expect(state(agent)).toBe("qr");
    expect(qrs).toEqual(["2@fakeRef,fakeNoise,fakeIdentity,fakeAdv"]);
    const svg = await fetch(`${agent.adminUrl}/sessions/primary/qr`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect(await svg.text()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const page = await (await fetch(`${agent.adminUrl}/`)).text();
    expect(page).toContain('src="/sessions/primary/qr');
    const health = (await (await fetch(`${agent.adminUrl}/health`)).json()) as any;
    expect(health.sessions[0]).toMatchObject({ name: "primary", state: "qr" });
  });

  it("on logout wipes the auth state and does not reconnect", async () => {
    const wa = await fakeWhatsApp("silent");
    const { agent, sockets } = await liveAgent(wa.url);
    await eventually(async () => sockets.length, (n) => n === 1);
    agent.db.prepare("INSERT INTO wa_keys (session, type, id, value) VALUES ('primary', 'pre-key', '1', '{}')").run();
    agent.db.prepare("INSERT INTO wa_creds (session, creds) VALUES ('primary', '{}') ON CONFLICT DO NOTHING").run();
    closeWith(sockets[0]!, 401);
    expect(state(agent)).toBe("logged_out");
    expect(agent.db.prepare("SELECT count(*) AS n FROM wa_keys WHERE session = 'primary'").get()).toEqual({ n: 0 });
    expect(agent.db.prepare("SELECT count(*) AS n FROM wa_creds WHERE session = 'primary'").get()).toEqual({ n: 0 });
    await new Promise((r) => setTimeout(r, 500));
    expect(sockets).toHaveLength(1);
    expect(state(agent)).toBe("logged_out");
  });

  it("when replaced by another client, stops instead of fighting it", async () => {
    const wa = await fakeWhatsApp("silent");
    const { agent, sockets } = await liveAgent(wa.url);
    await eventually(async () => sockets.length, (n) => n === 1);
    closeWith(sockets[0]!, 440);
    await new Promise((r) => setTimeout(r, 500));
    expect(state(agent)).toBe("closed");
    expect(sockets).toHaveLength(1);
  });

  it("opens a new socket at once on 515 (restart required after pairing)", async () => {
    const wa = await fakeWhatsApp("silent");
    const { agent, sockets } = await liveAgent(wa.url);
    await eventually(async () => sockets.length, (n) => n === 1);
    closeWith(sockets[0]!, 515);
    await eventually(async () => sockets.length, (n) => n === 2);
    expect(state(agent)).toBe("connecting");
  });

  it("exposes session states and counters as Prometheus metrics", async () => {
    const wa = await fakeWhatsApp("silent");
    const { agent, sockets } = await liveAgent(wa.url);
    await eventually(async () => sockets.length, (n) => n === 1);
    sockets[0]!.ev.emit("connection.update", { connection: "open" });
    const res = await fetch(`${agent.adminUrl}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/wa_session_state\{session="primary",state="open"\} 1/);
    expect(text).toMatch(/wa_session_state\{session="primary",state="connecting"\} 0/);
    expect(text).toMatch(/wa_outbox_pending 0/);
    expect(text).toContain("wa_delivery_failures_total");
  });
});
