// Group traffic in the shapes Baileys emits it, for the agent's benchmarks: each message's content is encoded
// to protobuf and decoded again, so it is a proto.Message instance like the ones Baileys decrypts (toJSON,
// Uint8Array bytes, Long timestamps), under a plain key object like decodeMessageNode builds (participant,
// participantAlt, addressingMode). Mostly chatter; a few messages name a drop.
import { randomBytes } from "node:crypto";
import { proto, type WAMessage } from "baileys";

export interface TrafficOptions {
  /** Group JIDs the messages go to (round robin). */
  groups: string[];
  /** Share of messages that name a drop number (0–1). */
  dropShare?: number;
  /** Drop numbers start here and rise, so every drop message names a new drop. */
  firstDrop?: number;
}

const CHATTER = [
  "Morning team, starting at Lawley ext 3 today",
  "ok",
  "👍",
  "Who has the splicing kit?",
  "Client not home, will come back after lunch",
  "Pole 14 needs a ladder, anyone nearby?",
  "Thanks!",
  "Running late, traffic on the N1",
  "Please remember to photograph the ONT barcode",
  "Done for today. Tomorrow Velo block B.",
];

function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

/** Re-decodes content the way Baileys does after decryption: proto instances, bytes as Uint8Array. */
function asDecoded(content: proto.IMessage): proto.Message {
  return proto.Message.decode(proto.Message.encode(content).finish());
}

function contextInfo(): proto.IMessageContextInfo {
  return {
    deviceListMetadata: {
      senderKeyHash: bytes(10),
      senderTimestamp: 1795400000,
      recipientKeyHash: bytes(10),
      recipientTimestamp: 1795400100,
    },
    deviceListMetadataVersion: 2,
    messageSecret: bytes(32),
  };
}

function content(kind: number, text: string, quotedFrom: string): proto.IMessage {
  const messageContextInfo = contextInfo();
  switch (kind % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return { conversation: text, messageContextInfo };
    case 4:
    case 5:
    case 6:
      // A reply: extended text quoting an earlier message, mentioning its sender.
      return {
        extendedTextMessage: {
          text,
          contextInfo: {
            stanzaId: `3EB0${randomBytes(8).toString("hex").toUpperCase()}`,
            participant: quotedFrom,
            quotedMessage: { conversation: CHATTER[kind % CHATTER.length] },
            mentionedJid: [quotedFrom],
          },
          inviteLinkGroupTypeV2: 0,
        },
        messageContextInfo,
      };
    case 7:
    case 8:
      // A photo with a caption: the thumbnail and media keys are what make real messages heavy.
      return {
        imageMessage: {
          url: `https://mmg.whatsapp.net/v/t62.7118-24/${randomBytes(12).toString("hex")}.enc`,
          mimetype: "image/jpeg",
          caption: text,
          fileSha256: bytes(32),
          fileLength: 183_421,
          height: 1600,
          width: 1200,
          mediaKey: bytes(32),
          fileEncSha256: bytes(32),
          directPath: `/v/t62.7118-24/${randomBytes(12).toString("hex")}.enc?ccb=11-4`,
          mediaKeyTimestamp: 1795500000,
          jpegThumbnail: bytes(2_400),
        },
        messageContextInfo,
      };
    default:
      // A reaction: no text at all, still stored.
      return {
        reactionMessage: {
          key: { remoteJid: "", fromMe: false, id: `3EB0${randomBytes(8).toString("hex").toUpperCase()}`, participant: quotedFrom },
          text: "👍",
          senderTimestampMs: 1795500000123,
        },
        messageContextInfo,
      };
  }
}

/**
 * A source of group messages, handed out a batch at a time (as Baileys hands them over, and so that a benchmark
 * never holds them all): a pool of decoded contents is shared between messages (decoding is Baileys' cost, not
 * the agent's), while every message has its own key, id and time.
 */
export function groupTraffic(opts: TrafficOptions): { next(count: number): WAMessage[] } {
  const dropShare = opts.dropShare ?? 0.05;
  let nextDrop = opts.firstDrop ?? 10_000_000;
  const members = Array.from({ length: 200 }, (_, i) => ({
    lid: `${1_000_000_000_000 + i * 7919}@lid`,
    pn: `2782${String(1_000_000 + i * 37).padStart(7, "0")}@s.whatsapp.net`,
    name: `Installer ${i}`,
    // Most members arrive as LIDs with their phone number beside (v7 group addressing), some as phone JIDs.
    lidAddressed: i % 5 !== 0,
  }));
  const chatterPool = Array.from({ length: 500 }, (_, i) => {
    const m = members[(i * 13) % members.length]!;
    return asDecoded(content(i, CHATTER[i % CHATTER.length]!, m.pn));
  });
  const dropEvery = dropShare > 0 ? Math.round(1 / dropShare) : Infinity;
  const t0 = Math.floor(Date.now() / 1000) - 86_400;
  let i = 0;
  const one = (): WAMessage => {
    const m = members[i % members.length]!;
    const group = opts.groups[i % opts.groups.length]!;
    const isDrop = i % dropEvery === dropEvery - 1;
    const message = isDrop
      ? // Drops come as plain text, replies and captions (every kind but the reaction).
        asDecoded(content(Math.floor(i / dropEvery) % 9, `DR${nextDrop++} done, all photos posted`, members[(i + 1) % members.length]!.pn))
      : chatterPool[i % chatterPool.length]!;
    const msg = {
      key: {
        remoteJid: group,
        fromMe: false,
        // Random, as WhatsApp's are: where a message lands in the store's index is random too.
        id: `3EB0${randomBytes(9).toString("hex").toUpperCase()}`,
        participant: m.lidAddressed ? m.lid : m.pn,
        participantAlt: m.lidAddressed ? m.pn : m.lid,
        addressingMode: m.lidAddressed ? "lid" : "pn",
      },
      category: undefined,
      messageTimestamp: t0 + Math.floor(i / 100),
      pushName: m.name,
      broadcast: false,
      message,
    } as WAMessage;
    i++;
    return msg;
  };
  return { next: (count) => Array.from({ length: count }, one) };
}
