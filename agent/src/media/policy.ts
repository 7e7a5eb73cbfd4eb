// What the agent keeps of an image: JPEG, PNG and WebP up to 10 MiB (issue 10). Everything else is recorded
// without its bytes, decided from what WhatsApp declares before downloading and checked again on the bytes.
import { photoTypeOf } from "@wa-monitor/shared";
import type { ImageInfo } from "./detect.ts";

export const MEDIA_MAX_BYTES = 10 * 1024 * 1024;
export const KEPT_MIMETYPES: ReadonlySet<string> = new Set(["image/jpeg", "image/png", "image/webp"]);

export type MediaState = "pending_download" | "downloaded" | "too_large" | "unsupported" | "failed" | "skipped";

/** The state an image is recorded in, and why when it will not be downloaded. */
export function initialState(info: ImageInfo, opts: { oldHistory: boolean }): { state: MediaState; error: string | null } {
  if (!info.mimetype || !KEPT_MIMETYPES.has(info.mimetype)) {
    return { state: "unsupported", error: `type ${info.mimetype ?? "(none)"} is not kept` };
  }
  if (info.fileLength !== null && info.fileLength > MEDIA_MAX_BYTES) {
    return { state: "too_large", error: `${info.fileLength} bytes declared, over ${MEDIA_MAX_BYTES}` };
  }
  // Like drops in old history: recorded, not fetched (weeks of photos, most of them expired, would each ask
  // the sender's phone for a re-upload).
  if (opts.oldHistory) return { state: "skipped", error: "history older than historyDays" };
  if (!info.mediaKey || (!info.url && !info.directPath)) {
    return { state: "failed", error: "WhatsApp sent no media key or location" };
  }
  return { state: "pending_download", error: null };
}

/** The kept type the bytes really are, from their first bytes; null for anything else. The edge checks the same. */
export const sniffMimetype = photoTypeOf;
