// Bindings as wrangler hands them to the Worker, and their validated, typed form. Secrets (DATABASE_URL,
// AGENT_TOKEN, DASHBOARD_TOKEN) come from `wrangler secret put` in production and from an env file locally.
import { z } from "zod";

export interface Env {
  DATABASE_URL: string;
  AGENT_TOKEN: string;
  DASHBOARD_TOKEN: string;
  /** "127.0.0.1:PORT" of the local WebSocket↔TCP proxy; unset against real Neon. */
  NEON_LOCAL_PROXY?: string;
  /** How the Postgres behind the local proxy authenticates it (tools/pg-auth.ts); `password`, as Neon, if unset. */
  NEON_LOCAL_AUTH?: string;
  TIMEZONE?: string;
  FEED_MAX_LIMIT?: string;
  FEEDBACK_PER_MINUTE?: string;
  FEEDBACK_PER_HOUR?: string;
  FEEDBACK_PER_DAY?: string;
  FEEDBACK_SAME_DROP_SECONDS?: string;
  FEEDBACK_LEASE_SECONDS?: string;
  FEEDBACK_MAX_ATTEMPTS?: string;
  FEEDBACK_SENDER?: string;
  BRIDGE_STALE_SECONDS?: string;
  HEALTH_PROBE_SECONDS?: string;
}

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "not an IANA time zone");

export const Config = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
  AGENT_TOKEN: z.string().min(16, "must be at least 16 characters"),
  DASHBOARD_TOKEN: z.string().min(16, "must be at least 16 characters"),
  NEON_LOCAL_PROXY: z
    .string()
    .regex(/^[\w.-]+:\d+$/, "must be host:port")
    .optional(),
  // Only a server that asks for a cleartext password can take the password the driver pipelines.
  NEON_LOCAL_AUTH: z.enum(["password", "scram-sha-256", "md5", "trust"]).optional(),
  TIMEZONE: timeZone.default("Africa/Johannesburg"),
  FEED_MAX_LIMIT: z.coerce.number().int().min(1).max(1000).default(200),
  // WhatsApp bans numbers that spam: feedback leaves under these limits (sliding windows per sending number).
  FEEDBACK_PER_MINUTE: z.coerce.number().int().min(0).default(2),
  FEEDBACK_PER_HOUR: z.coerce.number().int().min(0).default(20),
  FEEDBACK_PER_DAY: z.coerce.number().int().min(0).default(100),
  FEEDBACK_SAME_DROP_SECONDS: z.coerce.number().int().min(0).default(3600),
  FEEDBACK_LEASE_SECONDS: z.coerce.number().int().min(5).default(120),
  FEEDBACK_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  /** The rate-limit bucket: the agent's sending number. A fallback session sends within the same budget. */
  FEEDBACK_SENDER: z.string().min(1).default("sender"),
  BRIDGE_STALE_SECONDS: z.coerce.number().int().min(10).default(120),
  /** GET /health probes the database at most this often per isolate; hits in between reuse the answer. */
  HEALTH_PROBE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
}).refine((c) => c.AGENT_TOKEN !== c.DASHBOARD_TOKEN, {
  // One token for both would let any agent host read and review everything on the dashboard.
  path: ["AGENT_TOKEN"],
  message: "must differ from DASHBOARD_TOKEN",
}).refine((c) => c.NEON_LOCAL_PROXY || c.NEON_LOCAL_AUTH === undefined, {
  path: ["NEON_LOCAL_AUTH"],
  message: "only with NEON_LOCAL_PROXY (Neon itself always takes a pipelined password)",
}).refine((c) => c.NEON_LOCAL_PROXY || c.HEALTH_PROBE_SECONDS > 0, {
  // 0 probes on every hit, which lets a benchmark time the probing request; a public endpoint must not do that.
  path: ["HEALTH_PROBE_SECONDS"],
  message: "0 (probe on every request) is for local benchmarks only, with NEON_LOCAL_PROXY",
});
export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  readonly fields: string[];
  constructor(fields: string[]) {
    super(`invalid Worker configuration: ${fields.join("; ")}`);
    this.fields = fields;
  }
}

// The env object is the same for the life of an isolate, so validate it once per object.
const cache = new WeakMap<object, Config>();

export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = Config.safeParse(env);
  if (!parsed.success) {
    // Name the fields, never echo their values: they are secrets.
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
