// The watchdog judges a socket by what it receives, not by group messages: groups are quiet every night, while
// WhatsApp answers Baileys' keepalive ping every 30 s. Real Baileys sockets on a local WebSocket server that
// either keeps sending data (never a whole message) or says nothing.
import type { WASocket } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { eventually } from "./helpers.ts";
import { fakeWhatsApp, liveAgent, type FakeMode, type FakeWhatsApp } from "./live-whatsapp.ts";

let agent: Agent | undefined;
let wa: FakeWhatsApp | undefined;

afterEach(async () => {
  await agent?.stop();
  await wa?.close();
  agent = undefined;
  wa = undefined;
});

/** An open session with no group messages, its watchdog set to 0.5 s (below the config's minimum, for speed). */
async function quietOpenSession(mode: FakeMode) {
  wa = await fakeWhatsApp(mode);
  const live = await liveAgent(wa.url, {
    connectTimeoutMs: 60_000,
    tweak: (c) => {
      c.watchdog = { staleAfterSeconds: 0.5, checkEverySeconds: 0.1 };
    },
  });
  agent = live.agent;
  const sock = (await eventually(async () => live.sockets[0], (s) => !!s)) as WASocket;
  await eventually(async () => sock.ws.isOpen, (open) => open);
  sock.ev.emit("connection.update", { connection: "open" });
  return live;
}

describe("watchdog", () => {
  it("leaves alone a socket that keeps receiving, however quiet its groups", async () => {
    const { agent, sockets } = await quietOpenSession("trickle");
    const openedAt = Date.parse(agent.sessions.get("primary")!.status().lastEventAt!);
    await new Promise((r) => setTimeout(r, 2_000)); // four times the threshold
    expect(sockets).toHaveLength(1);
    expect(wa!.connections()).toBe(1);
    const status = agent.sessions.get("primary")!.status();
    expect(status.state).toBe("open");
    // Liveness is not what dashboards show as the last event: that stays at the last event.
    expect(Date.parse(status.lastEventAt!)).toBe(openedAt);
  });

  it("restarts a socket that has received nothing for too long", async () => {
    const { sockets } = await quietOpenSession("silent");
    await eventually(async () => sockets.length, (n) => n >= 2, 5_000);
    await eventually(async () => wa!.connections(), (n) => n >= 2, 5_000);
  });
});
