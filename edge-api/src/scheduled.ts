import type { Env } from "./env.ts";

/**
 * Cron entry point (`* * * * *`). Feedback scheduling and bridge staleness (the QA feedback issue) run from
 * here; until then there is no periodic work, and the trigger exists so the local launcher and production
 * exercise the same path.
 */
export async function scheduled(_controller: ScheduledController, _env: Env, _ctx: ExecutionContext): Promise<void> {}
