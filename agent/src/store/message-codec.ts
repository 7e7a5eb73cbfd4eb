// How a WAMessage is kept in the store. Its content (`message`, a proto.Message as Baileys decrypted it) is
// stored in WhatsApp's own protobuf encoding: what came over the wire, compact, cheap to write, and decoded back
// into the same proto.Message Baileys' getMessage must return. The rest (key with its v7 fields such as
// participantAlt, time, push name) is small BufferJSON text.
//
// BufferJSON text of the whole message was the agent's largest cost per message: proto instances convert
// themselves to JSON objects (enums as names, bytes and longs as strings) and the replacer runs for every key.
// It was also lossy: those names and strings did not encode back into the same protobuf.
import { BufferJSON, proto, type WAMessage } from "baileys";

export interface EncodedMessage {
  /** BufferJSON: the WAMessage without its content, or the whole of it when `content` is null. */
  raw: string;
  /** proto.Message bytes; null when the message has no content or it does not encode. */
  content: Buffer | null;
}

export function encodeMessage(msg: WAMessage): EncodedMessage {
  const { message, ...rest } = msg;
  if (!message) return { raw: JSON.stringify(rest, BufferJSON.replacer), content: null };
  let bytes: Uint8Array;
  try {
    bytes = proto.Message.encode(message).finish();
  } catch {
    // Content Baileys' schema cannot encode is still kept, as text.
    return { raw: JSON.stringify(msg, BufferJSON.replacer), content: null };
  }
  const content = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { raw: JSON.stringify(rest, BufferJSON.replacer), content };
}

export function decodeMessage(raw: string, content: Buffer | null): WAMessage {
  const msg = JSON.parse(raw, BufferJSON.reviver) as WAMessage;
  if (content) msg.message = proto.Message.decode(content);
  return msg;
}
