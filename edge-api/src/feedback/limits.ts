import type { Config } from "../env.ts";

export interface FeedbackLimits {
  sender: string;
  perMinute: number;
  perHour: number;
  perDay: number;
  sameDropSeconds: number;
  leaseSeconds: number;
  maxAttempts: number;
}

export function feedbackLimits(cfg: Config): FeedbackLimits {
  return {
    sender: cfg.FEEDBACK_SENDER,
    perMinute: cfg.FEEDBACK_PER_MINUTE,
    perHour: cfg.FEEDBACK_PER_HOUR,
    perDay: cfg.FEEDBACK_PER_DAY,
    sameDropSeconds: cfg.FEEDBACK_SAME_DROP_SECONDS,
    leaseSeconds: cfg.FEEDBACK_LEASE_SECONDS,
    maxAttempts: cfg.FEEDBACK_MAX_ATTEMPTS,
  };
}
