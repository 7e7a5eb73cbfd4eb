// One drop: its photos, its steps to tick (each with the photos tagged with it), its submissions, reviews and
// feedback, and the review buttons.
import { api } from "./api.ts";
import { fail } from "./auth.ts";
import { el } from "./dom.ts";
import { loadFeed, renderFeed } from "./feed.ts";
import { hidePhotos, showPhotos } from "./photos.ts";
import { ready, state } from "./state.ts";
import type { Drop, ReviewRequest } from "./types.ts";
import { ui } from "./ui.ts";

export async function openDrop(dropNumber: string): Promise<void> {
  state.selected = dropNumber;
  renderFeed();
  const d = await api.drop(dropNumber).catch(fail);
  // Another drop was clicked while this one loaded: its details win.
  if (d && state.selected === dropNumber) renderDetail(d);
}

export function closeDrop(): void {
  ui.detail.hidden = true;
  state.selected = null;
  state.shown = null;
  hidePhotos();
  renderFeed();
}

/** Counts photo changes: only the drop as read after the latest one is shown (answers can arrive out of order). */
let photoChanges = 0;

/** A photo was tagged, attached or detached: its drop's photos and the feed's count again. The review form
 * keeps what the reviewer has ticked and typed so far. */
async function photosChanged(): Promise<void> {
  const dropNumber = state.shown;
  if (!dropNumber) return;
  const mine = ++photoChanges;
  const d = await api.drop(dropNumber);
  if (state.shown !== dropNumber || mine !== photoChanges) return;
  await Promise.all([showPhotos(d, photosChanged), loadFeed(true)]);
}

function renderDetail(d: Drop): void {
  const { steps, clock } = ready();
  state.shown = d.dropNumber;
  ui.detail.hidden = false;
  ui.title.textContent = d.dropNumber + " · " + d.project;
  ui.meta.textContent =
    d.status + (d.reviewer ? " · reviewed by " + d.reviewer + " " + clock.when(d.reviewedAt) : "") + " · first posted " + clock.when(d.firstSubmittedAt);
  ui.steps.replaceChildren(
    el("legend", {}, "Photo steps"),
    ...steps.map((s) =>
      el(
        "div",
        { class: "step-row" },
        el("label", {}, el("input", { type: "checkbox", name: s.key, checked: d.steps[s.key] }), s.label),
        el("span", { class: "step-photos", "data-step": s.key }),
      ),
    ),
  );
  ui.comment.value = "";
  ui.result.textContent = "";
  ui.submissions.replaceChildren(
    ...d.submissions.map((s) =>
      el("li", {}, clock.when(s.sentAt) + " · " + (s.senderName ?? s.senderJid) + " via " + s.session + (s.resubmission ? " (resubmission)" : "") + "\n" + s.text),
    ),
  );
  ui.reviews.replaceChildren(
    ...d.reviews.map((r) => el("li", {}, clock.when(r.createdAt) + " · " + r.status + " by " + r.reviewer + (r.comment ? "\n" + r.comment : ""))),
  );
  ui.feedback.replaceChildren(
    ...d.feedback.map((f) => el("li", {}, f.status + (f.sentAt ? " " + clock.when(f.sentAt) : "") + (f.error ? " · " + f.error : "") + "\n" + f.text)),
  );
  showPhotos(d, photosChanged).catch(fail);
}

export async function submitReview(status: ReviewRequest["status"]): Promise<void> {
  const dropNumber = state.shown;
  if (!dropNumber) return;
  const steps: Record<string, boolean> = {};
  for (const box of ui.steps.querySelectorAll<HTMLInputElement>("input[type=checkbox]")) steps[box.name] = box.checked;
  const comment = ui.comment.value.trim();
  const review: ReviewRequest = { steps, status, reviewer: state.reviewer || "QA", ...(comment ? { comment } : {}) };
  try {
    const d = await api.review(dropNumber, review);
    if (state.shown === dropNumber) renderDetail(d);
    ui.result.textContent = status === "incomplete" ? "Marked incomplete — feedback scheduled for the group." : "Marked complete.";
    await loadFeed(true);
  } catch (err) {
    fail(err);
  }
}
