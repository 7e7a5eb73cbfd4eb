// The small JPEG the dashboard's grid shows: WhatsApp's embedded thumbnail when the message carried one, else one
// made here from the bytes with sharp (libvips: decodes JPEG, PNG and WebP, shrinking a JPEG while it decodes it,
// so a 12-megapixel photo never sits in memory at full size). Baileys itself makes thumbnails with sharp.
import { photoTypeOf } from "@wa-monitor/shared";

/** The contract takes up to 96 KiB of base64: 72 KiB of JPEG. */
const MAX_THUMBNAIL_BYTES = 72 * 1024;
/** Longest side: enough for a grid cell on a high-density screen. */
const SIDE_PX = 320;

type Sharp = typeof import("sharp").default;
let loaded: Promise<Sharp> | undefined;
// Loaded on first use: most images come with WhatsApp's thumbnail, and sharp's native library costs memory.
const sharp = () =>
  (loaded ??= import("sharp").then(({ default: s }) => {
    s.cache(false); // one image at a time: libvips' operation cache would only hold memory
    s.concurrency(1);
    return s;
  }));

/** WhatsApp's thumbnail when usable. */
export function embeddedThumbnail(thumbnail: Buffer | null): Buffer | null {
  return thumbnail && thumbnail.length <= MAX_THUMBNAIL_BYTES && photoTypeOf(thumbnail) === "image/jpeg" ? thumbnail : null;
}

/** A JPEG of at most SIDE_PX on its longest side, upright; null when the bytes do not decode. */
export async function makeThumbnail(bytes: Buffer): Promise<Buffer | null> {
  try {
    const s = await sharp();
    const out = await s(bytes, { failOn: "none" })
      .rotate() // EXIF orientation, as a phone shows it
      .resize(SIDE_PX, SIDE_PX, { fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: 70, mozjpeg: false })
      .toBuffer();
    return out.length <= MAX_THUMBNAIL_BYTES ? out : null;
  } catch {
    return null;
  }
}
