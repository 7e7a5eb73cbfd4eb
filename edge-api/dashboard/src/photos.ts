// A drop's photos beside its review: a grid of thumbnails with their step tags (or the caption's suggested step,
// one click to accept), the photos tagged with each step next to its checkbox, and the group's unlinked photos
// of the drop's days, to attach by hand. Captions and names are WhatsApp text: shown as text only.
import { api } from "./api.ts";
import { fail } from "./auth.ts";
import { el } from "./dom.ts";
import { keepThumbnails, lazyThumbnail, stopWatching } from "./photo-urls.ts";
import { ready, state } from "./state.ts";
import type { Drop, PhotoListItem, PhotoPatchRequest, PhotosResponse, PhotoView, QaStepKey } from "./types.ts";
import { ui } from "./ui.ts";
import { openViewer } from "./viewer.ts";

/** Called after a photo changed, to show the drop as it now is. */
export type Changed = () => Promise<void>;

// How a photo came to be linked to the drop: a word on the card, and the rule in full as its tooltip.
const LINKED_BY: Record<NonNullable<PhotoView["linkedBy"]>, [string, string]> = {
  caption: ["caption", "Its caption names the drop"],
  reply: ["reply", "A reply to a message naming the drop"],
  sender_window: ["same installer", "Posted near the drop by the installer who posted it"],
  manual: ["by hand", "Attached by a reviewer"],
};

const who = (p: PhotoView) => p.senderName ?? p.senderJid;
const stepLabel = (key: QaStepKey) => ready().steps.find((s) => s.key === key)?.label ?? key;

/** Saves a change, then shows the drop as it now is. A change the edge did not take is said, and `undo` puts back
 * what the control showed before it (a select left on the new step would read as saved). */
async function patch(id: string, change: PhotoPatchRequest, changed: Changed, undo?: () => void): Promise<void> {
  try {
    await api.patchPhoto(id, change);
  } catch (err) {
    undo?.();
    return fail(err);
  }
  await changed().catch(fail);
}

function button(label: string, attrs: Record<string, string>, onClick: () => void): HTMLButtonElement {
  const b = el("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
}

/** The thumbnail as a button that opens the full photo. */
function thumb(p: PhotoView, className: string): HTMLButtonElement {
  const alt = "Photo from " + who(p) + (p.caption ? ": " + p.caption : "");
  const b = el("button", { type: "button", class: className, title: "Open the full photo" }, lazyThumbnail(p.id, alt));
  b.addEventListener("click", () => void openViewer(p));
  return b;
}

function byline(p: PhotoView): HTMLElement {
  return el("span", { class: "muted" }, ready().clock.time(p.sentAt) + " · " + who(p));
}

/** Its step tag, changeable and clearable; untagged with a suggestion: that step, one click to accept. */
function stepTag(p: PhotoView, changed: Changed): Node[] {
  const select = el(
    "select",
    { class: p.step ? "step tagged" : "step", "aria-label": "QA step of this photo" },
    el("option", { value: "" }, "No step"),
    ...ready().steps.map((s) => el("option", { value: s.key, selected: p.step === s.key }, s.label)),
  );
  select.addEventListener(
    "change",
    () => void patch(p.id, { step: (select.value || null) as QaStepKey | null }, changed, () => (select.value = p.step ?? "")),
  );
  if (p.step || !p.suggestedStep) return [select];
  const suggested = p.suggestedStep;
  return [
    button("✓ " + stepLabel(suggested), { class: "suggested", "data-step": suggested, title: "The caption suggests this step: click to tag the photo with it" }, () =>
      void patch(p.id, { step: suggested }, changed),
    ),
    select,
  ];
}

/** A photo's card: its thumbnail, who sent it when, its caption, then what can be done with it. */
function card(p: PhotoView, ...rest: (Node | null)[]): HTMLElement {
  return el(
    "figure",
    { class: "photo", "data-photo": p.id },
    thumb(p, "thumb"),
    el("figcaption", {}, byline(p), p.caption ? el("span", { class: "caption" }, p.caption) : null, ...rest),
  );
}

function linkedCard(p: PhotoView, changed: Changed): HTMLElement {
  return card(
    p,
    ...stepTag(p, changed),
    el(
      "span",
      { class: "link" },
      el("span", { class: "muted", title: p.linkedBy ? LINKED_BY[p.linkedBy][1] : null }, "linked: " + (p.linkedBy ? LINKED_BY[p.linkedBy][0] : "–")),
      button("Detach", { class: "detach", title: "Unlink this photo from the drop" }, () => void patch(p.id, { dropNumber: null }, changed)),
    ),
  );
}

/** The drop's photos: the grid, and next to each QA step the photos tagged with it. */
function renderLinked(photos: PhotoView[], changed: Changed): void {
  ui.photosCount.textContent = photos.length ? `(${photos.length})` : "";
  ui.photos.replaceChildren(...photos.map((p) => linkedCard(p, changed)));
  ui.noPhotos.hidden = photos.length > 0;
  for (const holder of ui.steps.querySelectorAll<HTMLElement>(".step-photos")) {
    holder.replaceChildren(...photos.filter((p) => p.step === holder.getAttribute("data-step")).map((p) => thumb(p, "mini")));
  }
}

function unlinkedCard(p: PhotoListItem, dropNumber: string, changed: Changed): HTMLElement {
  return card(p, button("Attach to " + dropNumber, { class: "attach" }, () => void patch(p.id, { dropNumber }, changed)));
}

/** The group's photos linked to no drop, from the days the drop was posted on. */
async function loadUnlinked(d: Drop): Promise<PhotosResponse[]> {
  const { clock } = ready();
  const days = [...new Set(d.submissions.map((s) => clock.day(s.sentAt)))];
  return Promise.all(days.map((date) => api.photos({ project: d.project, unlinked: true, date, limit: 200 })));
}

function renderUnlinked(pages: PhotosResponse[], dropNumber: string, changed: Changed): PhotoListItem[] {
  const seen = new Set<string>();
  const items = pages
    .flatMap((p) => p.items)
    .filter((p) => !seen.has(p.id) && seen.add(p.id))
    .sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  ui.unlinked.replaceChildren(...items.map((p) => unlinkedCard(p, dropNumber, changed)));
  ui.noUnlinked.hidden = items.length > 0;
  ui.unlinkedMore.hidden = !pages.some((p) => p.nextCursor);
  return items;
}

/** Only the newest showing may write the unlinked list (two quick changes answer in either order). */
let showSeq = 0;

/** Shows the drop's photos at once, then the group's unlinked ones; thumbnails of photos no longer shown are
 * released. `changed` is called after the reviewer changes a photo. */
export async function showPhotos(d: Drop, changed: Changed): Promise<void> {
  const mine = ++showSeq;
  // Images of the previous rendering that never came into view are not loaded any more.
  stopWatching();
  const photos = d.photos ?? [];
  renderLinked(photos, changed);
  if (ui.unlinked.getAttribute("data-drop") !== d.dropNumber) {
    ui.unlinked.replaceChildren();
    ui.unlinked.setAttribute("data-drop", d.dropNumber);
    ui.noUnlinked.hidden = ui.unlinkedMore.hidden = true;
  }
  // An edge without the photo API answers no `photos`: then there is nothing to attach either.
  const pages = d.photos ? await loadUnlinked(d) : [];
  if (mine !== showSeq || state.shown !== d.dropNumber) return;
  const unlinked = renderUnlinked(pages, d.dropNumber, changed);
  keepThumbnails([...photos, ...unlinked].map((p) => p.id));
}

/** The drop was closed: its images go too. */
export function hidePhotos(): void {
  showSeq++;
  stopWatching();
  keepThumbnails([]);
}
