// The Worker's bindings and their validated, typed form. This schema is the one place their defaults are
// written: wrangler.toml's [vars] hold only what differs from them, and the `Env` type wrangler hands the Worker
// is the schema's input. Secrets (DATABASE_URL, AGENT_TOKEN, DASHBOARD_TOKEN) come from `wrangler secret put` in
// production and from an env file locally; PHOTOS is the R2 bucket wrangler.toml binds.
import type { R2Bucket } from "@cloudflare/workers-types/index.ts";
import { z } from "zod";

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "not an IANA time zone");

// A var arrives as a string ("200"), or as a number when wrangler.toml writes it bare (200).
const whole = () => z.coerce.number<string | number>().int();

// Any object may arrive under a binding's name; a bucket is what answers head/get/put (wrangler's local binding and
// Cloudflare's alike). Checked here, so a Worker deployed without it says so on every request.
const r2Bucket = z.custom<R2Bucket>(
  (v) => typeof v === "object" && v !== null && ["head", "get", "put"].every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
  "must be an R2 bucket binding ([[r2_buckets]] in wrangler.toml)",
);

/** Secrets, the R2 bucket, and what only the local stack sets. */
const Bindings = z.object({
  /** The photos' bytes, keyed `photos/<sha256>` (edge-api/src/photos/blobs.ts). */
  PHOTOS: r2Bucket,
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
  AGENT_TOKEN: z.string().min(16, "must be at least 16 characters"),
  DASHBOARD_TOKEN: z.string().min(16, "must be at least 16 characters"),
  /** "127.0.0.1:PORT" of the local WebSocket↔TCP proxy; unset against real Neon. */
  NEON_LOCAL_PROXY: z
    .string()
    .regex(/^[\w.-]+:\d+$/, "must be host:port")
    .optional(),
  /** How the Postgres behind the local proxy authenticates it (tools/pg-auth.ts); `password`, as Neon, if unset.
   * Only a server that asks for a cleartext password can take the password the driver pipelines. (Any string
   * may arrive in a binding; the enum decides.) */
  NEON_LOCAL_AUTH: z.string().pipe(z.enum(["password", "scram-sha-256", "md5", "trust"])).optional(),
});

/** The settings: every one has its default here, and a deployment sets in [vars] only those it changes. */
export const Settings = z.object({
  /** The teams' calendar days: the feed's `date` filter and the daily stats. */
  TIMEZONE: timeZone.default("Africa/Johannesburg"),
  /** The largest page the feed serves. */
  FEED_MAX_LIMIT: whole().min(1).max(1000).default(200),
  // WhatsApp bans numbers that spam: feedback leaves under these limits (sliding windows per sending number), no
  // drop gets feedback within FEEDBACK_SAME_DROP_SECONDS of its last, an agent's claim on a message holds for
  // FEEDBACK_LEASE_SECONDS, and a message is given up after FEEDBACK_MAX_ATTEMPTS claims (feedback/queue/).
  FEEDBACK_PER_MINUTE: whole().min(0).default(2),
  FEEDBACK_PER_HOUR: whole().min(0).default(20),
  FEEDBACK_PER_DAY: whole().min(0).default(100),
  FEEDBACK_SAME_DROP_SECONDS: whole().min(0).default(3600),
  FEEDBACK_LEASE_SECONDS: whole().min(5).default(120),
  FEEDBACK_MAX_ATTEMPTS: whole().min(1).default(3),
  /** The rate-limit bucket: the agent's sending number. A fallback session sends within the same budget. */
  FEEDBACK_SENDER: z.string().min(1).default("sender"),
  /** A session whose agent has sent no heartbeat for this long is flagged stale. */
  SESSION_STALE_SECONDS: whole().min(10).default(120),
  /** Deprecated: the old name of SESSION_STALE_SECONDS, read when that one is left at its default. */
  BRIDGE_STALE_SECONDS: whole().min(10).optional(),
  /** A photo with neither a caption nor a reply naming a drop goes to its sender's nearest drop message in the
   * group within this many minutes: the latest before it, else the first after it (db/photo-links.ts). */
  PHOTO_WINDOW_MINUTES: whole().min(1).max(24 * 60).default(60),
  /** GET /health probes the database at most this often per isolate; hits in between reuse the answer. */
  HEALTH_PROBE_SECONDS: whole().min(0).max(300).default(5),
});

export const Config = Bindings.extend(Settings.shape)
  .refine((c) => c.AGENT_TOKEN !== c.DASHBOARD_TOKEN, {
    // One token for both would let any agent host read and review everything on the dashboard.
    path: ["AGENT_TOKEN"],
    message: "must differ from DASHBOARD_TOKEN",
  })
  .refine((c) => c.NEON_LOCAL_PROXY || c.NEON_LOCAL_AUTH === undefined, {
    path: ["NEON_LOCAL_AUTH"],
    message: "only with NEON_LOCAL_PROXY (Neon itself always takes a pipelined password)",
  })
  .refine((c) => c.NEON_LOCAL_PROXY || c.HEALTH_PROBE_SECONDS > 0, {
    // 0 probes on every hit, which lets a benchmark time the probing request; a public endpoint must not do that.
    path: ["HEALTH_PROBE_SECONDS"],
    message: "0 (probe on every request) is for local benchmarks only, with NEON_LOCAL_PROXY",
  })
  // A deployment that still sets the old name keeps its value.
  .transform(({ BRIDGE_STALE_SECONDS, ...c }) => ({
    ...c,
    SESSION_STALE_SECONDS:
      BRIDGE_STALE_SECONDS !== undefined && c.SESSION_STALE_SECONDS === Settings.shape.SESSION_STALE_SECONDS.parse(undefined)
        ? BRIDGE_STALE_SECONDS
        : c.SESSION_STALE_SECONDS,
  }));
/** The bindings as wrangler hands them to the Worker. */
export type Env = z.input<typeof Config>;
export type Config = z.output<typeof Config>;

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
