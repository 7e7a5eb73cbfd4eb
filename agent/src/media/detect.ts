// Which WhatsApp messages are images, and what the agent keeps of them: an imageMessage, or a documentMessage
// whose mimetype is an image, also inside the view-once, ephemeral and caption wrappers (Baileys'
// normalizeMessageContent takes them off). Stickers are not photos and are left out.
import { normalizeMessageContent, type proto } from "baileys";

export interface ImageInfo {
  kind: "image" | "document";
  /** Lower case, without parameters; null when WhatsApp sent none. */
  mimetype: string | null;
  fileName: string | null;
  fileLength: number | null;
  width: number | null;
  height: number | null;
  fileSha256: Buffer | null;
  fileEncSha256: Buffer | null;
  mediaKey: Buffer | null;
  mediaKeyTimestamp: number | null;
  url: string | null;
  directPath: string | null;
  /** WhatsApp's embedded thumbnail (a small JPEG). */
  thumbnail: Buffer | null;
  /** The id of the message this image replies to. */
  quotedId: string | null;
}

const bytes = (b: Uint8Array | null | undefined): Buffer | null =>
  b && b.length ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : null;
const num = (n: number | { toString(): string } | null | undefined): number | null => {
  if (n === null || n === undefined) return null;
  const v = typeof n === "number" ? n : Number(n.toString());
  return Number.isFinite(v) ? v : null;
};
const text = (s: string | null | undefined): string | null => (s ? s : null);

export function normaliseMimetype(m: string | null | undefined): string | null {
  const base = m?.split(";")[0]?.trim().toLowerCase();
  return base ? base : null;
}

export function imageOf(message: proto.IMessage | null | undefined): ImageInfo | null {
  const content = normalizeMessageContent(message);
  const image = content?.imageMessage;
  const document = content?.documentMessage;
  const media = image ?? (normaliseMimetype(document?.mimetype)?.startsWith("image/") ? document : null);
  if (!media) return null;
  return {
    kind: image ? "image" : "document",
    mimetype: normaliseMimetype(media.mimetype),
    fileName: image ? null : text(document?.fileName),
    fileLength: num(media.fileLength),
    width: num(image ? image.width : null),
    height: num(image ? image.height : null),
    fileSha256: bytes(media.fileSha256),
    fileEncSha256: bytes(media.fileEncSha256),
    mediaKey: bytes(media.mediaKey),
    mediaKeyTimestamp: num(media.mediaKeyTimestamp),
    url: text(media.url),
    directPath: text(media.directPath),
    thumbnail: bytes(media.jpegThumbnail),
    quotedId: text(media.contextInfo?.stanzaId),
  };
}
