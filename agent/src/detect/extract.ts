// What the agent needs from a Baileys WAMessage: who said what, where and when. Text comes from plain
// conversation, extended text, and image/video/document captions; an edit carries the new text and the id of
// the message it edits.
import { normalizeMessageContent, proto, type WAMessage } from "baileys";

export interface ExtractedMessage {
  chatJid: string;
  messageId: string;
  fromMe: boolean;
  /** Participant JID in a group (a phone-number JID or a LID), or the chat JID in a 1:1 chat. */
  senderJid: string | null;
  /** The other addressing of the sender when WhatsApp sent it (participantAlt). */
  senderAltJid: string | null;
  senderName: string | null;
  sentAtMs: number;
  text: string | null;
  /** Set when this message is an edit: the id of the original message. */
  editOf: string | null;
}

// NUL characters carry no meaning in a chat message and Postgres refuses them.
const clean = (s: string | null | undefined): string | null => (s == null ? null : s.replaceAll("\u0000", ""));

/** The text of message content already taken out of its wrappers (normalizeMessageContent), or its caption. */
export function textOf(m: proto.IMessage | null | undefined): string | null {
  if (!m) return null;
  return clean(
    m.conversation ??
      m.extendedTextMessage?.text ??
      m.imageMessage?.caption ??
      m.videoMessage?.caption ??
      m.documentMessage?.caption ??
      null,
  );
}

/**
 * A message WhatsApp could not decrypt yet arrives as a content-less placeholder; the real one follows under
 * the same key after a retry. Storing the placeholder would make the real one look like a repeat.
 */
export function isUndecryptedPlaceholder(msg: WAMessage): boolean {
  return !msg.message && msg.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT;
}

function toMs(ts: WAMessage["messageTimestamp"]): number | null {
  if (ts === null || ts === undefined) return null;
  const n = typeof ts === "number" ? ts : Number(ts.toString());
  return Number.isFinite(n) && n > 0 ? n * 1000 : null;
}

export function extractMessage(msg: WAMessage, now = Date.now()): ExtractedMessage | null {
  const key = msg.key;
  if (!key?.remoteJid || !key.id) return null;
  const content = normalizeMessageContent(msg.message);
  let text = textOf(content);
  let editOf: string | null = null;
  const protocol = content?.protocolMessage;
  if (protocol?.type === proto.Message.ProtocolMessage.Type.MESSAGE_EDIT && protocol.key?.id) {
    editOf = protocol.key.id;
    text = textOf(normalizeMessageContent(protocol.editedMessage));
  }
  const alt = (key as { participantAlt?: string }).participantAlt ?? null;
  return {
    chatJid: key.remoteJid,
    messageId: key.id,
    fromMe: Boolean(key.fromMe),
    senderJid: key.participant ?? (key.remoteJid.endsWith("@g.us") ? null : key.remoteJid),
    senderAltJid: alt,
    senderName: clean(msg.pushName),
    sentAtMs: toMs(msg.messageTimestamp) ?? now,
    text,
    editOf,
  };
}
