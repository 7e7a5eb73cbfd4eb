// Photos reach the page as blob: URLs made from bytes fetched with the token (an <img src> could carry the token
// only in its URL, where logs and history would keep it). Thumbnails load when they scroll into view; each
// one's URL is kept while its photo is on screen and revoked once the photo no longer is.
import { api, AuthError } from "./api.ts";
import { fail } from "./auth.ts";
import { el } from "./dom.ts";

const thumbnails = new Map<string, Promise<string>>();
/** The thumbnails already fetched: a photo shown again (after a change, or beside its step) needs no wait. */
const fetched = new Map<string, string>();

function thumbnailUrl(id: string): Promise<string> {
  let url = thumbnails.get(id);
  if (!url) {
    url = api.thumbnail(id).then((blob) => URL.createObjectURL(blob));
    url.then(
      (u) => thumbnails.get(id) === url && fetched.set(id, u),
      // A failed load is tried again the next time the photo is shown. Only this load is forgotten: one dropped
      // before it failed may have been followed by a newer load, whose URL must stay known to be revoked.
      () => thumbnails.get(id) === url && thumbnails.delete(id),
    );
    thumbnails.set(id, url);
  }
  return url;
}

/** Revokes the thumbnails of every photo not among these (another drop is shown, or its photos changed). */
export function keepThumbnails(ids: Iterable<string>): void {
  const keep = new Set(ids);
  for (const [id, url] of thumbnails) {
    if (keep.has(id)) continue;
    thumbnails.delete(id);
    fetched.delete(id);
    url.then((u) => URL.revokeObjectURL(u), () => {});
  }
}

async function load(img: HTMLImageElement): Promise<void> {
  try {
    img.src = await thumbnailUrl(img.getAttribute("data-photo")!);
    img.classList.remove("loading");
  } catch (err) {
    img.classList.replace("loading", "failed");
    if (err instanceof AuthError) fail(err);
  }
}

const observer = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      observer.unobserve(e.target);
      void load(e.target as HTMLImageElement);
    }
  },
  { rootMargin: "200px" },
);

/** An <img> whose thumbnail is fetched once it comes near the viewport. */
export function lazyThumbnail(id: string, alt: string): HTMLImageElement {
  const url = fetched.get(id);
  if (url) return el("img", { alt, src: url, "data-photo": id });
  const img = el("img", { alt, class: "loading", "data-photo": id, decoding: "async" });
  observer.observe(img);
  return img;
}

/** Forgets the images waiting to come into view (they have been replaced). */
export function stopWatching(): void {
  observer.disconnect();
}
