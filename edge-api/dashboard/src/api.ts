// The JSON API as the page calls it, with the reviewer's dashboard token. A 401 is an AuthError.
import { state } from "./state.ts";
import type { DailyStats, Drop, FeedResponse, ProjectsResponse, ReviewRequest, SessionsResponse, Settings } from "./types.ts";

export class AuthError extends Error {}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { authorization: "Bearer " + state.token, "content-type": "application/json" } });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (res.status === 401) throw new AuthError("The token was not accepted.");
  if (!res.ok) throw new Error(body.error?.message ?? "HTTP " + res.status);
  return body as T;
}

type Params = Record<string, string | number | null | undefined>;

function query(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, String(v));
  return q.toString();
}

export const api = {
  settings: () => call<Settings>("/v1/settings"),
  projects: () => call<ProjectsResponse>("/v1/projects"),
  sessions: () => call<SessionsResponse>("/v1/sessions"),
  dailyStats: (day: string) => call<DailyStats>("/v1/stats/daily?" + query({ from: day, to: day })),
  feed: (params: Params) => call<FeedResponse>("/v1/drops?" + query(params)),
  drop: (dropNumber: string) => call<Drop>("/v1/drops/" + encodeURIComponent(dropNumber)),
  review: (dropNumber: string, review: ReviewRequest) =>
    call<Drop>("/v1/drops/" + encodeURIComponent(dropNumber) + "/review", { method: "PATCH", body: JSON.stringify(review) }),
};
