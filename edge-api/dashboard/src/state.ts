// The page's state: who is signed in, the settings read from the API, what the list shows, which drop is open.
import type { Clock } from "./clock.ts";
import type { FeedItem, Settings } from "./types.ts";

export interface Filters {
  project?: string;
  status?: string;
  date?: string;
}

/** What the page knows once signed in: from GET /v1/settings. */
export interface Ready {
  steps: Settings["qaSteps"];
  clock: Clock;
}

export const state = {
  token: localStorage.getItem("wam.token") ?? "",
  reviewer: localStorage.getItem("wam.reviewer") ?? "",
  ready: null as Ready | null,
  /** The projects' names, from GET /v1/projects. */
  projects: [] as string[],
  items: [] as FeedItem[],
  cursor: null as string | null,
  filters: {} as Filters,
  /** The drop clicked last. */
  selected: null as string | null,
  /** The drop whose details are on screen (what a review applies to). */
  shown: null as string | null,
  /** Only the newest feed request may write the list. */
  feedSeq: 0,
};

export function ready(): Ready {
  if (!state.ready) throw new Error("the settings have not been loaded");
  return state.ready;
}
