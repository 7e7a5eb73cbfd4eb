// The drop list: newest activity first, in pages; a refresh reloads as many rows as are shown.
import { api } from "./api.ts";
import { el } from "./dom.ts";
import { ready, state } from "./state.ts";
import type { FeedItem } from "./types.ts";
import { ui } from "./ui.ts";

/** Most rows one request reloads; beyond that a refresh leaves the list as the reviewer paged it. */
export const MAX_RELOAD = 200;

// reset: page 1 again (as many rows as are shown, so a refresh keeps what "Load more" added); otherwise the
// next page. Answers that arrive after a newer request started are dropped.
export async function loadFeed(reset: boolean): Promise<void> {
  const seq = ++state.feedSeq;
  const limit = reset ? Math.min(MAX_RELOAD, Math.max(50, state.items.length)) : 50;
  const page = await api.feed({ limit, ...state.filters, cursor: reset ? null : state.cursor });
  if (seq !== state.feedSeq) return;
  state.items = reset ? page.items : state.items.concat(page.items);
  state.cursor = page.nextCursor;
  renderFeed();
}

const stepsDone = (d: FeedItem) => Object.values(d.steps).filter(Boolean).length;
// An edge without the photo API has no count to give.
const photoCount = (d: FeedItem) => d.photoCount ?? 0;

export function renderFeed(): void {
  const { steps, clock } = ready();
  ui.rows.replaceChildren(
    ...state.items.map((d) =>
      el(
        "tr",
        { "data-drop": d.dropNumber, class: state.selected === d.dropNumber ? "selected" : "" },
        el("td", {}, el("strong", {}, d.dropNumber)),
        el("td", {}, d.project),
        el("td", {}, el("span", { class: "badge " + d.status }, d.status), d.resubmitted ? " ↻" : ""),
        el("td", {}, stepsDone(d) + "/" + steps.length),
        el("td", { class: "photo-count", title: photoCount(d) + " photos" }, photoCount(d) ? String(photoCount(d)) : "–"),
        el("td", {}, d.senderName ?? "", d.senderPhone ? " " + d.senderPhone : ""),
        el("td", {}, clock.when(d.lastSubmittedAt)),
        el("td", {}, d.feedbackSentAt ? "sent " + clock.when(d.feedbackSentAt) : "–"),
      ),
    ),
  );
  ui.empty.hidden = state.items.length > 0;
  ui.more.hidden = !state.cursor;
}
