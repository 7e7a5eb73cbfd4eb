// What to do when a WhatsApp socket closes, by Baileys' disconnect status code. Pure, so every rule is tested.
import type { SessionState } from "@wa-monitor/shared";
import { backoffDelay } from "../sync/backoff.ts";

export type { SessionState };

export type Decision =
  | { action: "logged_out"; reason: string } // wipe auth, never reconnect on our own
  | { action: "restart"; reason: string } // new socket right away
  | { action: "stop"; reason: string } // another client took over: do not fight it
  | { action: "update_version"; reason: string } // fetch the current WA Web version, try once more
  | { action: "failed"; reason: string }
  | { action: "reconnect"; delayMs: number; reason: string };

export interface RuleContext {
  /** Consecutive failed connection attempts so far. */
  attempt: number;
  triedLatestVersion: boolean;
  backoff: { initialMs: number; maxMs: number };
  random?: () => number;
}

export function decideOnClose(statusCode: number | undefined, ctx: RuleContext): Decision {
  switch (statusCode) {
    case 401:
    case 403:
    case 419:
      return { action: "logged_out", reason: `logged out (${statusCode}): pair the number again` };
    case 515:
      return { action: "restart", reason: "restart required (normal right after pairing)" };
    case 440:
      return { action: "stop", reason: "connection replaced by another client; not reconnecting" };
    case 405:
      return ctx.triedLatestVersion
        ? { action: "failed", reason: "405 even with the latest WA Web version" }
        : { action: "update_version", reason: "405: WA Web version outdated" };
    default:
      return {
        action: "reconnect",
        delayMs: backoffDelay(ctx.attempt, ctx.backoff.initialMs, ctx.backoff.maxMs, ctx.random),
        reason: `connection closed (${statusCode ?? "no status"})`,
      };
  }
}
