// What the edge is told about an image message (the contract's PhotoRecord), from its record in the store: the
// drops its caption names and those the message it replies to names, found by the group's own detector (the same
// one that found the drops), and a thumbnail.
import { createDropDetector, PhotoMimetype, PhotoRecord, UNKNOWN_SENDER, type DropDetector, type PhotoState } from "@wa-monitor/shared";
import type { UploadRow } from "../store/media-uploads.ts";
import { fitSubmissionText } from "../store/submission-text.ts";
import { embeddedThumbnail, makeThumbnail } from "./thumbnail.ts";

const STATE: Record<UploadRow["state"], PhotoState> = {
  downloaded: "stored",
  too_large: "too_large",
  unsupported: "unsupported",
  failed: "failed",
  skipped: "skipped",
};
/** The contract's bounds. */
const CAPTION_MAX = 4096;
const NAME_MAX = 200;
const DROPS_MAX = 20;
const fallbackDetector = createDropDetector();

export interface PhotoRecordDeps {
  /** The detector of the image's group (a group no longer in the config gets the default one). */
  detector(chatJid: string): DropDetector | undefined;
  /** The text of the message the image replies to, when known. */
  quotedText(row: UploadRow): string | null;
  /** The image's bytes in the store. */
  bytes(sha256: string): Buffer | undefined;
}

export type BuiltRecord = { ok: true; record: PhotoRecord } | { ok: false; error: string };

export async function photoRecordOf(row: UploadRow, deps: PhotoRecordDeps): Promise<BuiltRecord> {
  const detector = deps.detector(row.chatJid) ?? fallbackDetector;
  const drops = (text: string | null) => (text ? detector.detect(text).slice(0, DROPS_MAX) : []);
  const stored = row.state === "downloaded";
  const bytes = stored && row.sha256 ? deps.bytes(row.sha256) : undefined;
  const thumbnail = embeddedThumbnail(row.thumbnail) ?? (bytes ? await makeThumbnail(bytes) : null);
  const mimetype = PhotoMimetype.safeParse(row.mimetype);
  const candidate = {
    chatJid: row.chatJid,
    messageId: row.messageId,
    session: row.session,
    senderJid: row.senderJid ?? UNKNOWN_SENDER,
    senderPhone: row.senderPhone,
    senderName: row.senderName === null ? null : fitSubmissionText(row.senderName, NAME_MAX),
    sentAt: new Date(row.sentAtMs).toISOString(),
    kind: row.kind,
    state: STATE[row.state],
    sha256: stored ? row.sha256 : null,
    mimetype: mimetype.success ? mimetype.data : null,
    bytes: stored ? row.size : null,
    width: row.width,
    height: row.height,
    caption: row.caption === null ? null : fitSubmissionText(row.caption, CAPTION_MAX),
    quotedId: row.quotedId,
    captionDrops: drops(row.caption),
    quotedDrops: drops(deps.quotedText(row)),
    thumbnail: thumbnail?.toString("base64") ?? null,
  };
  const parsed = PhotoRecord.safeParse(candidate);
  if (parsed.success) return { ok: true, record: parsed.data };
  return { ok: false, error: `the contract refuses the record: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
}
