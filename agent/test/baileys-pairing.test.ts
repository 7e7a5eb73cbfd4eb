// Pairing by code across reconnects. Baileys' requestPairingCode writes creds.me (the number being paired) and
// the code into the creds, which we persist; WhatsApp ends a pairing window with 408. The next connection must
// register afresh with a new code, not log in as if the number were paired. Real Baileys sockets on a local
// WebSocket server, which decodes the code requests the sockets send.
import { BufferJSON, getBinaryNodeChild, type AuthenticationCreds, type WASocket } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { eventually } from "./helpers.ts";
import { closeWith, fakeWhatsApp, liveAgent, type FakeWhatsApp } from "./live-whatsapp.ts";

let agent: Agent | undefined;
let wa: FakeWhatsApp | undefined;

afterEach(async () => {
  await agent?.stop();
  await wa?.close();
  agent = undefined;
  wa = undefined;
});

const PHONE = "27821234000";

describe("pairing by code", () => {
  it("asks for a fresh code on every connection until the number is paired", async () => {
    wa = await fakeWhatsApp("silent");
    const live = await liveAgent(wa.url, { sessions: [{ name: "primary", role: "capture", phone: `+${PHONE}` }], connectTimeoutMs: 60_000 });
    agent = live.agent;
    const status = () => agent!.sessions.get("primary")!.status();
    const savedCreds = () => {
      const row = agent!.db.prepare("SELECT creds FROM wa_creds WHERE session = 'primary'").get() as { creds: string } | undefined;
      return row ? (JSON.parse(row.creds, BufferJSON.reviver) as AuthenticationCreds) : undefined;
    };
    const codeRequests = () =>
      wa!
        .sent()
        .filter(({ node }) => getBinaryNodeChild(node, "link_code_companion_reg")?.attrs.stage === "companion_hello")
        .map(({ connection, node }) => ({ connection, jid: getBinaryNodeChild(node, "link_code_companion_reg")!.attrs.jid }));
    const connected = async (n: number) => {
      const sock = (await eventually(async () => live.sockets[n - 1], (s) => !!s)) as WASocket;
      await eventually(async () => sock.ws.isOpen, (open) => open);
      return sock;
    };

    // First connection: WhatsApp starts the registration (a QR ref), the session asks for a code.
    const first = await connected(1);
    first.ev.emit("connection.update", { qr: "2@ref1,noise,identity,adv" });
    const firstCode = (await eventually(async () => status().pairingCode, (c) => !!c))!;
    expect(codeRequests()).toEqual([{ connection: 1, jid: `${PHONE}@s.whatsapp.net` }]);
    expect(savedCreds()?.me?.id).toBe(`${PHONE}@s.whatsapp.net`); // what requestPairingCode wrote

    // Nobody entered it in time: WhatsApp closes the window (408). The unfinished pairing is forgotten.
    closeWith(first, 408);
    expect(status().pairingCode).toBeNull();
    expect(savedCreds()?.me).toBeUndefined();
    expect(savedCreds()?.pairingCode).toBeUndefined();

    // The reconnect registers as a new device: Baileys logs in (and buffers as a paired socket) only with creds.me.
    const second = await connected(2);
    expect(second.authState.creds.me).toBeUndefined();
    expect(second.ev.isBuffering()).toBe(false);
    second.ev.emit("connection.update", { qr: "2@ref2,noise,identity,adv" });
    const secondCode = (await eventually(async () => status().pairingCode, (c) => !!c))!;
    expect(secondCode).not.toBe(firstCode);
    expect(codeRequests()).toEqual([
      { connection: 1, jid: `${PHONE}@s.whatsapp.net` },
      { connection: 2, jid: `${PHONE}@s.whatsapp.net` },
    ]);
  });

  it("keeps a paired device's creds across the same reconnect", async () => {
    wa = await fakeWhatsApp("silent");
    const live = await liveAgent(wa.url, { paired: ["primary"], connectTimeoutMs: 60_000 });
    agent = live.agent;
    const first = (await eventually(async () => live.sockets[0], (s) => !!s)) as WASocket;
    closeWith(first, 408);
    const second = (await eventually(async () => live.sockets[1], (s) => !!s)) as WASocket;
    expect(second.authState.creds.me?.id).toBe("27820000001:7@s.whatsapp.net");
    await eventually(async () => second.ev.isBuffering(), (b) => b); // Baileys treats it as paired: catch-up buffer
  });
});
