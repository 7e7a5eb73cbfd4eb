// Baileys holds incoming events in a buffer (up to 30 s while a paired socket catches up after connecting) and
// its end() destroys that buffer without flushing it, although WhatsApp already has our receipts for them.
// Every way a socket closes must hand those messages over first, and the agent must store them before its
// store closes. Real Baileys sockets on a local WebSocket server; the sessions are paired, so Baileys itself
// starts buffering when they connect.
import type { WASocket } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { closeStore, openStore, type Db } from "../src/store/db.ts";
import { eventually } from "./helpers.ts";
import { fakeWhatsApp, groupMessage, liveAgent, type FakeWhatsApp } from "./live-whatsapp.ts";

let agent: Agent | undefined;
let wa: FakeWhatsApp | undefined;

afterEach(async () => {
  await agent?.stop();
  await wa?.close();
  agent = undefined;
  wa = undefined;
});

const stored = (db: Db, ids: string[]) => ({
  messages: (db.prepare(`SELECT message_id FROM messages WHERE message_id IN (${ids.map(() => "?").join()}) ORDER BY message_id`).all(...ids) as { message_id: string }[]).map((r) => r.message_id),
  drops: (db.prepare(`SELECT message_id FROM outbox WHERE message_id IN (${ids.map(() => "?").join()}) ORDER BY message_id`).all(...ids) as { message_id: string }[]).map((r) => r.message_id),
});

/** A paired session whose socket holds two drops in Baileys' event buffer, not yet handed to the agent. */
async function bufferedDrops(opts: Parameters<typeof liveAgent>[1] = {}) {
  wa = await fakeWhatsApp("silent");
  const live = await liveAgent(wa.url, { paired: ["primary"], connectTimeoutMs: 60_000, ...opts });
  agent = live.agent;
  const sock = (await eventually(async () => live.sockets[0], (s) => !!s)) as WASocket;
  await eventually(async () => sock.ev.isBuffering() && sock.ws.isOpen, (ready) => ready);
  const messages = [groupMessage(), groupMessage()];
  // Baileys' own path for a decrypted message, after it has sent the receipt.
  for (const m of messages) await sock.upsertMessage(m as never, "notify");
  const ids = messages.map((m) => m.key.id).sort();
  expect(stored(agent.db, ids)).toEqual({ messages: [], drops: [] }); // still in Baileys' buffer
  return { ...live, sock, ids };
}

describe("a closing socket hands over what Baileys buffered", () => {
  it("when WhatsApp hangs up", async () => {
    const { agent, ids } = await bufferedDrops();
    wa!.hangUp();
    await eventually(async () => stored(agent.db, ids), (s) => s.messages.length === 2 && s.drops.length === 2);
  });

  it("when the agent stops: stored, LID senders resolved, before the store closes", async () => {
    wa = await fakeWhatsApp("silent");
    const live = await liveAgent(wa.url, { paired: ["primary"], connectTimeoutMs: 60_000 });
    agent = live.agent;
    const sock = (await eventually(async () => live.sockets[0], (s) => !!s)) as WASocket;
    await eventually(async () => sock.ev.isBuffering(), (b) => b);
    // Only Baileys' own LID store (our keys table) knows this sender's number.
    agent.db
      .prepare("INSERT INTO wa_keys (session, type, id, value) VALUES ('primary', 'lid-mapping', '98765432101234_reverse', ?)")
      .run(JSON.stringify("27821112222"));
    const fromLid = groupMessage();
    fromLid.key.participant = "98765432101234@lid";
    const buffered = [groupMessage(), fromLid];
    for (const m of buffered) await sock.upsertMessage(m as never, "notify");
    // And one that reaches upsertMessage just after the close (its receipt went out just before).
    const late = groupMessage();
    sock.ev.on("connection.update", (u) => {
      if (u.connection === "close") queueMicrotask(() => void sock.upsertMessage(late as never, "notify"));
    });
    const ids = [...buffered, late].map((m) => m.key.id).sort();
    expect(stored(agent.db, ids)).toEqual({ messages: [], drops: [] });

    await agent.stop();
    const db = openStore(live.dataDir);
    try {
      expect(stored(db, ids)).toEqual({ messages: ids, drops: ids });
      const phone = (table: string) =>
        db.prepare(`SELECT sender_phone FROM ${table} WHERE message_id = ?`).get(fromLid.key.id) as { sender_phone: string | null };
      expect(phone("messages").sender_phone).toBe("+27821112222");
      expect(phone("outbox").sender_phone).toBe("+27821112222");
    } finally {
      closeStore(db);
    }
  });

  it("when the watchdog restarts the socket", async () => {
    const { agent, sock, sockets, ids } = await bufferedDrops({
      tweak: (c) => {
        c.watchdog = { staleAfterSeconds: 0.3, checkEverySeconds: 0.1 };
      },
    });
    sock.ev.emit("connection.update", { connection: "open" });
    await eventually(async () => sockets.length, (n) => n >= 2, 5_000);
    await eventually(async () => stored(agent.db, ids), (s) => s.messages.length === 2 && s.drops.length === 2);
  });

  it("takes a message Baileys hands over just after the socket closed", async () => {
    wa = await fakeWhatsApp("silent");
    const live = await liveAgent(wa.url, { paired: ["primary"], connectTimeoutMs: 60_000 });
    agent = live.agent;
    const sock = (await eventually(async () => live.sockets[0], (s) => !!s)) as WASocket;
    // Baileys' own close: it emits connection.update, then destroys the emitter and every listener on it.
    await sock.end(new Error("network gone"));
    // A message whose receipt went out just before the close reaches upsertMessage only now.
    const late = groupMessage();
    await sock.upsertMessage(late as never, "notify");
    await eventually(async () => stored(agent!.db, [late.key.id]), (s) => s.messages.length === 1 && s.drops.length === 1);
  });
});
