// One session's listener error stays in that session: it is logged with the session's name, and neither the
// session itself nor any other stops storing messages. Two real Baileys sockets on a local WebSocket server;
// the sessions are paired and past their offline catch-up, so a message entering through Baileys' upsertMessage
// reaches the listeners from Baileys' own timer (where an escaping error is an uncaught exception: without a
// process-wide handler, the whole process and every session gone).
import type { WASocket } from "baileys";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { monitoredGroups } from "../src/detect/projects.ts";
import { createMetrics } from "../src/metrics.ts";
import { closeStore, openStore, type Db } from "../src/store/db.ts";
import { createBaileysSession } from "../src/whatsapp/baileys-session.ts";
import { createIngest, type Ingest } from "../src/whatsapp/ingest.ts";
import type { WaSession } from "../src/whatsapp/session.ts";
import { eventually, tempDir, testConfig } from "./helpers.ts";
import { catchUpDone, fakeWhatsApp, groupMessage, seedPairedSession, type FakeWhatsApp } from "./live-whatsapp.ts";

let sessions: WaSession[] = [];
let db: Db | undefined;
let wa: FakeWhatsApp | undefined;
const escaped: unknown[] = [];
const recordEscape = (err: unknown) => escaped.push(err);

afterEach(async () => {
  for (const s of sessions) await s.stop();
  if (db) closeStore(db);
  await wa?.close();
  process.off("uncaughtException", recordEscape);
  process.off("unhandledRejection", recordEscape);
  sessions = [];
  db = undefined;
  wa = undefined;
});

describe("listener isolation", () => {
  it("a poisoned message in one session stops neither that session nor another", async () => {
    process.on("uncaughtException", recordEscape);
    process.on("unhandledRejection", recordEscape);
    wa = await fakeWhatsApp("silent");
    const dataDir = await tempDir();
    seedPairedSession(dataDir, "one", "27820000001");
    seedPairedSession(dataDir, "two", "27820000002");
    db = openStore(dataDir);
    const logged: { session?: string; event?: string; msg: string; err?: { message: string } }[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const metrics = createMetrics();
    const config = testConfig();
    const real = createIngest({ db, log, metrics, groups: () => monitoredGroups(config), ownUsers: () => new Set(), captures: () => true, onQueued: () => {} });
    // The fault: this ingest throws on a poisoned message, synchronously, inside the listener.
    const ingest: Ingest = {
      ...real,
      handle: (session, messages, kind) => {
        if (messages.some((m) => m.message?.conversation === "POISON")) throw new Error("poisoned message");
        return real.handle(session, messages, kind);
      },
    };
    const sockets = new Map<string, WASocket>();
    for (const name of ["one", "two"]) {
      const session = createBaileysSession(
        { name, role: "capture" },
        {
          db,
          log,
          metrics,
          ingest,
          watchdog: config.watchdog,
          backoff: config.backoff,
          socketOverrides: { waWebSocketUrl: wa.url, connectTimeoutMs: 60_000 },
          onSocket: (_n, sock) => sockets.set(name, sock),
        },
      );
      await session.start();
      sessions.push(session);
    }
    const one = await eventually(async () => sockets.get("one"), (s) => !!s);
    const two = await eventually(async () => sockets.get("two"), (s) => !!s);
    for (const sock of [one!, two!]) {
      await eventually(async () => sock.ev.isBuffering(), (b) => b);
      catchUpDone(sock);
      await eventually(async () => sock.ev.isBuffering(), (b) => !b);
    }

    await one!.upsertMessage(groupMessage("POISON") as never, "notify");
    await eventually(async () => logged, (l) => l.some((e) => e.err?.message === "poisoned message"), 5_000);
    expect(logged.find((e) => e.err?.message === "poisoned message")).toMatchObject({ session: "one", event: "messages.upsert" });

    const after = [groupMessage(), groupMessage()];
    await one!.upsertMessage(after[0] as never, "notify");
    await two!.upsertMessage(after[1] as never, "notify");
    const ids = after.map((m) => m.key.id);
    const rows = await eventually(
      async () => db!.prepare(`SELECT session, message_id FROM messages WHERE message_id IN (?, ?) ORDER BY session`).all(...ids),
      (r) => r.length === 2,
      5_000,
    );
    expect(rows).toEqual([
      { session: "one", message_id: ids[0] },
      { session: "two", message_id: ids[1] },
    ]);
    expect(escaped).toEqual([]);
  });
});
