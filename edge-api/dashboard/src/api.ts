// The JSON API as the page calls it, with the reviewer's dashboard token. A 401 is an AuthError.
import { state } from "./state.ts";
import type {
  DailyStats,
  Drop,
  FeedResponse,
  PhotoPatchRequest,
  PhotosResponse,
  ProjectsResponse,
  ReviewRequest,
  SessionsResponse,
  Settings,
} from "./types.ts";

export class AuthError extends Error {}

const authorization = () => ({ authorization: "Bearer " + state.token });

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { ...authorization(), "content-type": "application/json" } });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (res.status === 401) throw new AuthError("The token was not accepted.");
  if (!res.ok) throw new Error(body.error?.message ?? "HTTP " + res.status);
  return body as T;
}

// Images need the token too, so the page fetches their bytes itself (an <img src> could carry it only in the
// URL, where it would end up in logs and history) and shows them through a blob: URL.
async function bytes(path: string): Promise<Blob> {
  const res = await fetch(path, { headers: authorization() });
  if (res.status === 401) throw new AuthError("The token was not accepted.");
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error("HTTP " + res.status);
  }
  return res.blob();
}

type Params = Record<string, string | number | boolean | null | undefined>;

function query(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, String(v));
  return q.toString();
}

const photoPath = (id: string) => "/v1/photos/" + encodeURIComponent(id);

export const api = {
  settings: () => call<Settings>("/v1/settings"),
  projects: () => call<ProjectsResponse>("/v1/projects"),
  sessions: () => call<SessionsResponse>("/v1/sessions"),
  dailyStats: (from: string, to: string) => call<DailyStats>("/v1/stats/daily?" + query({ from, to })),
  feed: (params: Params) => call<FeedResponse>("/v1/drops?" + query(params)),
  drop: (dropNumber: string) => call<Drop>("/v1/drops/" + encodeURIComponent(dropNumber)),
  review: (dropNumber: string, review: ReviewRequest) =>
    call<Drop>("/v1/drops/" + encodeURIComponent(dropNumber) + "/review", { method: "PATCH", body: JSON.stringify(review) }),
  photos: (params: Params) => call<PhotosResponse>("/v1/photos?" + query(params)),
  patchPhoto: (id: string, patch: PhotoPatchRequest) => call<unknown>(photoPath(id), { method: "PATCH", body: JSON.stringify(patch) }),
  photo: (id: string) => bytes(photoPath(id)),
  thumbnail: (id: string) => bytes(photoPath(id) + "/thumbnail"),
};
