// Live sessions on real Baileys sockets, pointed at a local WebSocket server instead of WhatsApp (which this
// machine cannot reach). The server either hangs up at once or stays silent; what WhatsApp would say next
// (a QR code, a logout, a takeover) is emitted on the real socket's own event emitter.
import type { AddressInfo } from "node:net";
import type { WASocket } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { startAgent, type Agent } from "../src/agent.ts";
import { AgentEnv } from "../src/env.ts";
import { AGENT_TOKEN, eventually, tempDir, testConfig } from "./helpers.ts";

let agent: Agent | undefined;
let wss: WebSocketServer | undefined;

afterEach(async () => {
  await agent?.stop();
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  agent = undefined;
  wss = undefined;
});

async function fakeWhatsApp(mode: "hang-up" | "silent") {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => server.once("listening", () => r()));
  let connections = 0;
  server.on("connection", (ws) => {
    connections++;
    if (mode === "hang-up") ws.close();
  });
  wss = server;
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat`, connections: () => connections };
}

async function liveAgent(wsUrl: string, tweak: (c: ReturnType<typeof testConfig>) => void = () => {}) {
  const sockets: WASocket[] = [];
  const qrs: string[] = [];
  const env = AgentEnv.parse({
    AGENT_TOKEN,
    EDGE_URL: "http://127.0.0.1:9", // unused here: nothing is captured
    DATA_DIR: await tempDir(),
    ADMIN_PORT: "0",
    WA_TRANSPORT: "baileys",
    LOG_LEVEL: "silent",
  });
  const config = testConfig({ sessions: [{ name: "primary", role: "capture" }], backoff: { initialMs: 50, maxMs: 200 } });
  tweak(config);
  agent = await startAgent({
    env,
    config,
    baileys: {
      socketOverrides: { waWebSocketUrl: wsUrl, connectTimeoutMs: 5_000 },
      onSocket: (_s, sock) => sockets.push(sock),
      printQr: (_s, qr) => qrs.push(qr),
    },
  });
  return { agent, sockets, qrs };
}

const state = (a: Agent) => a.sessions.get("primary")!.status().state;
const closeWith = (sock: WASocket, statusCode: number) =>
  sock.ev.emit("connection.update", {
    connection: "close",
    lastDisconnect: { error: Object.assign(new Error(`closed ${statusCode}`), { output: { statusCode } }), date: new Date() },
  });

describe("live Baileys sessions", () => {
  it("reconnects with backoff when the connection drops", async () => {
    const wa = await fakeWhatsApp("hang-up");
    const { agent } = await liveAgent(wa.url);
    await eventually(async () => wa.connections(), (n) => n >= 3, 15_000);
    expect(["connecting", "closed"]).toContain(state(agent));
    expect(agent.sessions.get("primary")!.status().detail ?? "").toMatch(/retry in \d+ ms|stopped/);
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

  it("restarts a socket that is open but silent for too long (watchdog)", async () => {
    const wa = await fakeWhatsApp("silent");
    // Below the config's minimum on purpose (set after validation) so the test is quick.
    const { agent, sockets } = await liveAgent(wa.url, (c) => {
      c.watchdog = { staleAfterSeconds: 0.3, checkEverySeconds: 0.1 };
    });
    await eventually(async () => sockets.length, (n) => n === 1);
    sockets[0]!.ev.emit("connection.update", { connection: "open" });
    expect(state(agent)).toBe("open");
    await eventually(async () => sockets.length, (n) => n >= 2, 5_000);
    await eventually(async () => wa.connections(), (n) => n >= 2, 5_000);
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
