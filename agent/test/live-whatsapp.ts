// A stand-in for WhatsApp's WebSocket endpoint, for real Baileys sockets (this machine cannot reach WhatsApp).
// It cannot finish WhatsApp's noise handshake (the server certificate is signed by WhatsApp), so sockets stay
// in their handshake. What Baileys sends meanwhile goes out unencrypted: it is decoded here, so a test sees
// what the socket asked WhatsApp. What WhatsApp would say is emitted on the real socket's own event emitter.
import type { AddressInfo } from "node:net";
import { decodeBinaryNode, NOISE_WA_HEADER, type BinaryNode, type WASocket } from "baileys";
import { WebSocketServer } from "ws";
import { startAgent, type Agent } from "../src/agent.ts";
import { AgentEnv } from "../src/env.ts";
import { useSqlAuthState } from "../src/store/auth-state.ts";
import { closeStore, openStore } from "../src/store/db.ts";
import { AGENT_TOKEN, LAWLEY, tempDir, testConfig } from "./helpers.ts";

/**
 * hang-up: closes every connection at once. silent: says nothing. trickle: keeps sending bytes of a frame that
 * never completes, so the socket receives data all the time but never a message.
 */
export type FakeMode = "hang-up" | "silent" | "trickle";

export interface FakeWhatsApp {
  url: string;
  connections(): number;
  /** Nodes the sockets sent, in order, with the number of the connection that sent them (from 1). */
  sent(): { connection: number; node: BinaryNode }[];
  /** Closes every open connection, as WhatsApp does when it drops one. */
  hangUp(): void;
  close(): Promise<void>;
}

export async function fakeWhatsApp(mode: FakeMode, opts: { hangUpOn?: (node: BinaryNode) => boolean } = {}): Promise<FakeWhatsApp> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => server.once("listening", () => r()));
  let connections = 0;
  const sent: { connection: number; node: BinaryNode }[] = [];
  server.on("connection", (ws) => {
    const connection = ++connections;
    if (mode === "hang-up") return ws.close();
    // The first message starts with the noise header; the first frame is the handshake's client hello.
    let pending = Buffer.alloc(0);
    let header = true;
    let hello = true;
    let decoding = Promise.resolve();
    ws.on("message", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      if (header) {
        pending = pending.subarray(NOISE_WA_HEADER.length);
        header = false;
      }
      while (pending.length >= 3 && pending.length >= 3 + pending.readUIntBE(0, 3)) {
        const frame = pending.subarray(3, 3 + pending.readUIntBE(0, 3));
        pending = pending.subarray(3 + frame.length);
        if (hello) {
          hello = false;
          continue;
        }
        decoding = decoding.then(async () => {
          const node = await decodeBinaryNode(frame);
          sent.push({ connection, node });
          if (opts.hangUpOn?.(node)) ws.close();
        });
      }
    });
    if (mode === "trickle") {
      ws.send(Buffer.from([0x7f, 0xff, 0xff])); // announces an 8 MiB frame...
      const timer = setInterval(() => ws.send(Buffer.from([0])), 100); // ...that arrives a byte at a time
      ws.on("close", () => clearInterval(timer));
    }
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat`,
    connections: () => connections,
    sent: () => sent,
    hangUp: () => server.clients.forEach((c) => c.close()),
    close: async () => {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Creds of a paired device, as Baileys has them after pair-success (enough for Baileys before the handshake). */
export function seedPairedSession(dataDir: string, session: string, phone = "27820000001") {
  const db = openStore(dataDir);
  const auth = useSqlAuthState(db, session);
  auth.state.creds.me = { id: `${phone}:7@s.whatsapp.net`, name: session };
  auth.state.creds.account = {
    details: Buffer.alloc(16),
    accountSignatureKey: Buffer.alloc(32),
    accountSignature: Buffer.alloc(64),
    deviceSignature: Buffer.alloc(64),
  };
  auth.state.creds.accountSyncCounter = 1; // synced before: after the offline catch-up it goes online at once
  auth.saveCreds();
  closeStore(db);
}

/** What WhatsApp sends when the offline catch-up is done: Baileys flushes what it buffered since connecting. */
export const catchUpDone = (sock: WASocket) =>
  sock.ws.emit("CB:ib,,offline", { tag: "ib", attrs: {}, content: [{ tag: "offline", attrs: { count: "0" } }] });

export interface LiveAgentOptions {
  sessions?: { name: string; role: "capture" | "sender" | "both"; phone?: string }[];
  /** Sessions seeded as paired devices: Baileys buffers their events from the moment they connect. */
  paired?: string[];
  /** Changes the config after validation (tests use values below its minimums). */
  tweak?: (c: ReturnType<typeof testConfig>) => void;
  connectTimeoutMs?: number;
  defaultQueryTimeoutMs?: number;
}

export async function liveAgent(wsUrl: string, opts: LiveAgentOptions = {}) {
  const sockets: WASocket[] = [];
  const socketsOf = new Map<string, WASocket[]>();
  const qrs: string[] = [];
  const dataDir = await tempDir();
  for (const name of opts.paired ?? []) seedPairedSession(dataDir, name);
  const env = AgentEnv.parse({
    AGENT_TOKEN,
    EDGE_URL: "http://127.0.0.1:9", // nothing listens: drops stay in the outbox
    DATA_DIR: dataDir,
    ADMIN_PORT: "0",
    WA_TRANSPORT: "baileys",
    LOG_LEVEL: "silent",
  });
  const config = testConfig({ sessions: opts.sessions ?? [{ name: "primary", role: "capture" }], backoff: { initialMs: 50, maxMs: 200 } });
  opts.tweak?.(config);
  const agent: Agent = await startAgent({
    env,
    config,
    baileys: {
      socketOverrides: {
        waWebSocketUrl: wsUrl,
        connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
        ...(opts.defaultQueryTimeoutMs ? { defaultQueryTimeoutMs: opts.defaultQueryTimeoutMs } : {}),
      },
      onSocket: (name, sock) => {
        sockets.push(sock);
        socketsOf.set(name, [...(socketsOf.get(name) ?? []), sock]);
      },
      printQr: (_s, qr) => qrs.push(qr),
    },
  });
  return { agent, dataDir, sockets, socketsOf, qrs };
}

let counter = 0;
/** A message in a monitored group, in the shape Baileys' upsertMessage takes it (as decrypted from WhatsApp). */
export function groupMessage(text = `DR${String(10_000_000 + ++counter)}`, id = `3EB0TEST${Date.now()}${++counter}`) {
  return {
    key: { remoteJid: LAWLEY, id, fromMe: false, participant: "27821234567@s.whatsapp.net" },
    message: { conversation: text },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: "Thabo",
  };
}

/** What Baileys emits when WhatsApp closes the connection with this status code. */
export const closeWith = (sock: WASocket, statusCode: number) =>
  sock.ev.emit("connection.update", {
    connection: "close",
    lastDisconnect: { error: Object.assign(new Error(`closed ${statusCode}`), { output: { statusCode } }), date: new Date() },
  });
