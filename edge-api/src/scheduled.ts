import type { Env } from "./env.ts";

/** What the handler uses of workerd's ScheduledController and ExecutionContext. */
export interface CronEvent {
  cron: string;
  scheduledTime: number;
}
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Cron entry point (`* * * * *`). Feedback scheduling and bridge staleness (the QA feedback issue) run from
 * here; until then there is no periodic work, and the trigger exists so the local launcher and production
 * exercise the same path.
 */
export async function scheduled(_event: CronEvent, _env: Env, _ctx: WaitUntil): Promise<void> {}
