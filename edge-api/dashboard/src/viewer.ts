// The full photo in a modal dialog: its bytes fetched with the token, shown through a blob: URL that is revoked
// when the dialog closes or shows another photo.
import { api, AuthError } from "./api.ts";
import { fail } from "./auth.ts";
import { ready } from "./state.ts";
import type { PhotoView } from "./types.ts";
import { ui } from "./ui.ts";

let shown: string | null = null;
let seq = 0;

/** The dialog closed (its × or Escape): the photo's bytes are let go. */
export function releaseViewer(): void {
  seq++;
  release();
}

function release(): void {
  if (shown) URL.revokeObjectURL(shown);
  shown = null;
  ui.viewerImg.removeAttribute("src");
}

export async function openViewer(p: PhotoView): Promise<void> {
  const mine = ++seq;
  const { clock } = ready();
  release();
  const who = p.senderName ?? p.senderJid;
  ui.viewerImg.alt = "Photo from " + who + (p.caption ? ": " + p.caption : "");
  ui.viewerMeta.textContent = clock.when(p.sentAt) + " · " + who;
  ui.viewerCaption.textContent = p.caption ?? "";
  ui.viewerNote.textContent = p.state === "stored" ? "Loading…" : "The photo itself was not kept (" + p.state.replace("_", " ") + ").";
  if (!ui.viewer.open) ui.viewer.showModal();
  if (p.state !== "stored") return;
  try {
    const blob = await api.photo(p.id);
    if (mine !== seq || !ui.viewer.open) return;
    shown = URL.createObjectURL(blob);
    ui.viewerImg.src = shown;
    ui.viewerNote.textContent = "";
  } catch (err) {
    if (mine !== seq) return;
    ui.viewerNote.textContent = "Could not load the photo: " + (err as Error).message;
    if (err instanceof AuthError) fail(err);
  }
}
