// The simulated WhatsApp transport (WA_TRANSPORT=simulator). Messages are built as Baileys WAMessages and
// emitted as Baileys' own `messages.upsert` event into the same wiring and handler live sessions use. What a
// simulated session sends is recorded (GET /simulate/sent) and echoed into the group for every simulated
// session, as WhatsApp would — so our own feedback reaching the other number is exercised too. Images are built
// and served by the simulated media host (sim-media-host.ts) and downloaded through Baileys like live ones.
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { proto, type WAMessage } from "baileys";
import type { Logger } from "pino";
import type { SessionConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import type { Db } from "../store/db.ts";
import { messageReader } from "../store/messages.ts";
import type { SessionState } from "./connection-rules.ts";
import type { Ingest } from "./ingest.ts";
import { SessionNotOpenError, type MessageEventSource, type SessionStatus, type WaSession } from "./session.ts";
import type { SimMediaHost, SimulatedImage } from "./sim-media-host.ts";
import { wireMessageEvents } from "./wire.ts";

export interface SimulatedMessage {
  chatJid: string;
  senderJid: string;
  senderName?: string | undefined;
  text: string;
  id?: string | undefined;
  timestamp?: number | undefined; // seconds since epoch, as WhatsApp sends it
  /** Makes this message an edit of the message with this id. */
  editOf?: string | undefined;
  /** Makes this message a reply to the message with this id. */
  quotedId?: string | undefined;
  /** Makes this message an image (or an image document) with `text` as its caption. */
  image?: SimulatedImage | undefined;
}

export interface SimulatedSession extends WaSession {
  /** Delivers messages to this session exactly as Baileys would (one messages.upsert of type notify) and
   * resolves once they are stored. */
  inject(messages: SimulatedMessage[]): Promise<WAMessage[]>;
  /** Delivers Baileys messages as they are, as one messages.upsert of type notify or as a history sync; resolves
   * once they are stored. */
  deliver(messages: WAMessage[], as?: "notify" | "history"): Promise<WAMessage[]>;
}

export const newMessageId = () => `3EB0${randomBytes(8).toString("hex").toUpperCase()}`;

/** A stable, fake phone number per simulated session, so its messages can be recognised as our own. */
export function simulatedPhone(config: SessionConfig): string {
  if (config.phone) return config.phone;
  let h = 0;
  for (const c of config.name) h = (h * 31 + c.charCodeAt(0)) % 1_000_000;
  return `2760${String(h).padStart(7, "0")}`;
}

/** A WAMessage as WhatsApp would deliver it; `media` is the content of an image message (built by the media
 * host), `context` says which message it replies to. */
export function buildWaMessage(m: SimulatedMessage, ownJid: string, extra: { media?: proto.IMessage; context?: proto.IContextInfo } = {}): WAMessage {
  const id = m.id ?? newMessageId();
  const content: proto.IMessage = extra.media
    ? extra.media
    : m.editOf
      ? {
          protocolMessage: {
            type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
            key: { remoteJid: m.chatJid, id: m.editOf, fromMe: m.senderJid === ownJid, participant: m.senderJid },
            editedMessage: { conversation: m.text },
          },
        }
      : extra.context || m.text.includes("\n") || m.text.length > 200
        ? { extendedTextMessage: { text: m.text, ...(extra.context ? { contextInfo: extra.context } : {}) } }
        : { conversation: m.text };
  return {
    key: { remoteJid: m.chatJid, id, fromMe: m.senderJid === ownJid, participant: m.senderJid },
    message: content,
    messageTimestamp: m.timestamp ?? Math.floor(Date.now() / 1000),
    pushName: m.senderName ?? null,
  };
}

export function createSimulatorBus(db: Db, opts: { sendDelayMs?: number; media?: SimMediaHost } = {}) {
  const sessions = new Map<string, SimulatedSession>();
  const readMessage = messageReader(db);
  const record = db.prepare(
    "INSERT INTO sim_sent (session, chat_jid, text, mentions, wa_message_id, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const posted = db.prepare<[string, string, string], { n: number }>(
    "SELECT count(*) AS n FROM sim_sent WHERE session = ? AND chat_jid = ? AND wa_message_id = ?",
  );
  const list = db.prepare<[number], { id: number; session: string; chat_jid: string; text: string; mentions: string; wa_message_id: string; sent_at: number }>(
    "SELECT * FROM sim_sent WHERE id > ? ORDER BY id",
  );
  return {
    sessions,
    /** WhatsApp's media servers, simulated. */
    media: opts.media,
    /** What a reply to this message carries, as WhatsApp fills it: the quoted message's id, sender and content. */
    quoting(chatJid: string, id: string): proto.IContextInfo {
      const quoted = readMessage(chatJid, id);
      return {
        stanzaId: id,
        ...(quoted?.key.participant ? { participant: quoted.key.participant } : {}),
        ...(quoted?.message ? { quotedMessage: quoted.message } : {}),
      };
    },
    /** A test's stand-in for a slow network: how long a send takes after WhatsApp has the message. */
    sendDelayMs: opts.sendDelayMs ?? 0,
    /** Whether this session already posted a message with this id to this chat (WhatsApp would not post it again). */
    posted: (session: string, chatJid: string, id: string) => posted.get(session, chatJid, id)!.n > 0,
    record(session: string, chatJid: string, text: string, mentions: string[], id: string) {
      record.run(session, chatJid, text, JSON.stringify(mentions), id, Date.now());
    },
    sent(afterId = 0) {
      return list.all(afterId).map((r) => ({
        id: r.id,
        session: r.session,
        chatJid: r.chat_jid,
        text: r.text,
        mentions: JSON.parse(r.mentions) as string[],
        waMessageId: r.wa_message_id,
        sentAt: new Date(r.sent_at).toISOString(),
      }));
    },
  };
}

export type SimulatorBus = ReturnType<typeof createSimulatorBus>;

export function createSimulatedSession(
  config: SessionConfig,
  deps: { bus: SimulatorBus; ingest: Ingest; log: Logger; metrics: Metrics },
): SimulatedSession {
  const log = deps.log.child({ session: config.name, transport: "simulator" });
  const ev = new EventEmitter();
  const phone = simulatedPhone(config);
  const ownJid = `${phone}@s.whatsapp.net`;
  let state: SessionState = "closed";
  let lastEventAt: number | null = null;
  const setState = (s: SessionState) => {
    deps.metrics.sessionState.set({ session: config.name, state }, 0);
    state = s;
    deps.metrics.sessionState.set({ session: config.name, state: s }, 1);
  };
  const wiring = wireMessageEvents(ev as unknown as MessageEventSource, config.name, deps.ingest, log, () => {
    lastEventAt = Date.now();
  });

  async function build(m: SimulatedMessage): Promise<WAMessage> {
    const id = m.id ?? newMessageId();
    const context = m.quotedId ? deps.bus.quoting(m.chatJid, m.quotedId) : undefined;
    if (!m.image) return buildWaMessage({ ...m, id }, ownJid, context ? { context } : {});
    if (!deps.bus.media) throw new Error("the simulator has no media host");
    const media = await deps.bus.media.content(m.chatJid, id, m.image, m.text, context);
    return buildWaMessage({ ...m, id }, ownJid, { media });
  }
  const deliver = async (built: WAMessage[], as: "notify" | "history" = "notify") => {
    if (state !== "open") throw new SessionNotOpenError(config.name, state);
    if (as === "history") ev.emit("messaging-history.set", { messages: built });
    else ev.emit("messages.upsert", { messages: built, type: "notify" });
    await wiring.settled();
    return built;
  };

  const session: SimulatedSession = {
    config,
    status: (): SessionStatus => ({
      name: config.name,
      role: config.role,
      state,
      phone: `+${phone}`,
      lastEventAt: lastEventAt ? new Date(lastEventAt).toISOString() : null,
      qr: null,
      pairingCode: null,
      detail: "simulated",
    }),
    ownUsers: () => [phone],
    async start() {
      setState("open");
      lastEventAt = Date.now();
      deps.bus.sessions.set(config.name, session);
    },
    async stop() {
      setState("closed");
      deps.bus.sessions.delete(config.name);
      await wiring.settled();
    },
    async inject(messages) {
      if (state !== "open") throw new SessionNotOpenError(config.name, state);
      const built: WAMessage[] = [];
      for (const m of messages) built.push(await build(m));
      return deliver(built, "notify");
    },
    deliver,
    async updateMediaMessage(message) {
      if (state !== "open") throw new SessionNotOpenError(config.name, state);
      if (!deps.bus.media) throw new Error("the simulator has no media host");
      return deps.bus.media.reupload(message);
    },
    async send(chatJid, text, mentions = [], options = {}) {
      if (state !== "open") throw new Error(`simulated session ${config.name} is ${state}`);
      const id = options.messageId ?? newMessageId();
      // Like WhatsApp: the same id from the same number in the same chat is the same message, posted once.
      if (!deps.bus.posted(config.name, chatJid, id)) {
        deps.bus.record(config.name, chatJid, text, mentions, id);
        // Every simulated number in the group sees it, the sender as fromMe.
        for (const s of deps.bus.sessions.values()) {
          await s.inject([{ chatJid, senderJid: ownJid, text, id, senderName: `wa-monitor (${config.name})` }]);
        }
      }
      if (deps.bus.sendDelayMs) await new Promise((r) => setTimeout(r, deps.bus.sendDelayMs));
      return { waMessageId: id };
    },
  };
  return session;
}
