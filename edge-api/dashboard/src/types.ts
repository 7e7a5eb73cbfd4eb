// What the page reads from the API, typed from the shared contract: a change there is a type error here.
import type { z } from "zod";
import type { BridgeView, DailyStats, DropDetail, FeedItem, FeedResponse, QaStepKey, ReviewRequest } from "@wa-monitor/shared";

export type { DailyStats, FeedItem, FeedResponse, ReviewRequest };

// ---- Until the contract describes these responses (the api helper's part of issue 9), the page says what it
// expects here; at merge each becomes the contract's own type.
/** GET /v1/settings: how the page shows times and names the QA steps. */
export interface Settings {
  timeZone: string;
  qaSteps: { key: QaStepKey; label: string }[];
}
/** GET /v1/sessions */
export interface SessionsResponse {
  sessions: z.infer<typeof BridgeView>[];
}
/** GET /v1/projects */
export interface ProjectsResponse {
  projects: { name: string; groupJid: string; enabled: boolean; description: string }[];
}
/** GET /v1/drops/:dropNumber, whose submissions name the session that saw them. */
export type Drop = Omit<DropDetail, "submissions"> & {
  submissions: (DropDetail["submissions"][number] & { session: string })[];
};
