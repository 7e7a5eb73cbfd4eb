// Cron entry point (`* * * * *`): release feedback claims whose lease ran out, and flag sessions whose agent
// stopped sending heartbeats.
import { openDb } from "./db/client.ts";
import { loadConfig, type Env } from "./env.ts";
import { feedbackLimits } from "./feedback/limits.ts";
import { releaseExpiredClaims } from "./feedback/queue/index.ts";
import { markStaleSessions } from "./db/sessions.ts";

/** What the handler uses of workerd's ScheduledController and ExecutionContext. */
export interface CronEvent {
  cron: string;
  scheduledTime: number;
}
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

export async function runScheduled(env: Env, clock: () => Date = () => new Date()) {
  const cfg = loadConfig(env);
  const db = openDb(cfg);
  try {
    const feedback = await releaseExpiredClaims(db, feedbackLimits(cfg), clock);
    const staleSessions = await markStaleSessions(db, clock(), cfg.SESSION_STALE_SECONDS);
    return { ...feedback, staleSessions };
  } finally {
    await db.end();
  }
}

export async function scheduled(event: CronEvent, env: Env, _ctx: WaitUntil): Promise<void> {
  // The real time, not event.scheduledTime: a run that starts late must not backdate its work.
  const result = await runScheduled(env);
  if (result.released || result.failed || result.staleSessions) {
    console.log(JSON.stringify({ level: "info", msg: "scheduled", cron: event.cron, ...result }));
  }
}
