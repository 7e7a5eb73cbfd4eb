// What the page reads from the API, typed from the shared contract: a change there is a type error here.
import type {
  DailyStats,
  DropDetail,
  FeedItem as ContractFeedItem,
  PhotoPatchRequest,
  PhotoView,
  ProjectsResponse,
  QaStepKey,
  ReviewRequest,
  SessionsResponse,
  SettingsResponse,
} from "@wa-monitor/shared";
import type { PhotosResponse as PhotosResponseSchema } from "@wa-monitor/shared";
import type { z } from "zod";

export type { DailyStats, PhotoPatchRequest, PhotoView, ProjectsResponse, QaStepKey, ReviewRequest, SessionsResponse };

/** GET /v1/settings: how the page shows times and names the QA steps. */
export type Settings = SettingsResponse;
// Feed items' photo count and the drop detail's photos come with the edge's photo API; the page also works
// against an edge that answers neither.
export type FeedItem = ContractFeedItem & { photoCount?: number };
export interface FeedResponse {
  items: FeedItem[];
  nextCursor: string | null;
}
/** GET /v1/drops/:dropNumber */
export type Drop = DropDetail & { photos?: PhotoView[] };
/** GET /v1/photos */
export type PhotosResponse = z.infer<typeof PhotosResponseSchema>;
export type PhotoListItem = PhotosResponse["items"][number];
