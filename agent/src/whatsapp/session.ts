// What the rest of the agent sees of a WhatsApp session, whether Baileys or the simulator is behind it.
import type { WAMessage } from "baileys";
import type { SessionConfig } from "../config.ts";
import type { SessionState } from "./connection-rules.ts";

export interface SessionStatus {
  name: string;
  role: SessionConfig["role"];
  state: SessionState;
  phone: string | null;
  lastEventAt: string | null;
  qr: string | null;
  pairingCode: string | null;
  detail: string | null;
}

export interface SentMessage {
  waMessageId: string;
}

export interface SendOptions {
  /** The WhatsApp message id to send under. WhatsApp takes a second send with the same id in the same chat as the
   * same message, which makes a repeated send after a crash harmless. Default: a fresh id. */
  messageId?: string;
}

export interface WaSession {
  readonly config: SessionConfig;
  status(): SessionStatus;
  /** User parts of this session's own JIDs (phone number, LID), to recognise its messages in groups. */
  ownUsers(): string[];
  start(): Promise<void>;
  /** Resolves once everything the session received is stored, so the store can close next. */
  stop(): Promise<void>;
  send(chatJid: string, text: string, mentions?: string[], options?: SendOptions): Promise<SentMessage>;
  resolveLid?(lid: string): Promise<string | null>;
  /** Asks the sender's phone to upload expired media again (Baileys' updateMediaMessage); resolves with the message
   * pointing at the new copy. Throws when the session is not open. */
  updateMediaMessage?(message: WAMessage): Promise<WAMessage>;
}

/** The Baileys events the agent stores messages from, with the parts of their data it uses. */
export interface MessageEvents {
  "messages.upsert": { messages: WAMessage[]; type: "notify" | "append"; requestId?: string };
  "messaging-history.set": { messages: WAMessage[]; lidPnMappings?: { lid: string; pn: string }[] };
  "lid-mapping.update": { lid: string; pn: string };
}

/**
 * The subset of Baileys' own event emitter the agent listens on. The simulator provides an emitter of the same
 * shape, so both go through `wireMessageEvents`.
 */
export interface MessageEventSource {
  on(event: "messages.upsert", listener: (arg: MessageEvents["messages.upsert"]) => void): void;
  on(event: "messaging-history.set", listener: (arg: MessageEvents["messaging-history.set"]) => void): void;
  on(event: "lid-mapping.update", listener: (arg: MessageEvents["lid-mapping.update"]) => void): void;
}

/** A session asked to act on WhatsApp while it is not connected. */
export class SessionNotOpenError extends Error {
  constructor(session: string, state: SessionState) {
    super(`session ${session} is not open (${state})`);
  }
}
