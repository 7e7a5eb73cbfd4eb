// What the page reads from the API, typed from the shared contract: a change there is a type error here.
import type {
  DailyStats,
  DropDetail,
  FeedItem,
  FeedResponse,
  ProjectsResponse,
  ReviewRequest,
  SessionsResponse,
  SettingsResponse,
} from "@wa-monitor/shared";

export type { DailyStats, FeedItem, FeedResponse, ProjectsResponse, ReviewRequest, SessionsResponse };

/** GET /v1/settings: how the page shows times and names the QA steps. */
export type Settings = SettingsResponse;
/** GET /v1/drops/:dropNumber */
export type Drop = DropDetail;
