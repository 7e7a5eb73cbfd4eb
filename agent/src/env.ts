// Process environment of the agent, validated once at start.
import { z } from "zod";
import { EdgeUrl } from "./edge-url.ts";

export const AgentEnv = z.object({
  AGENT_CONFIG: z.string().default("agent.yaml"),
  EDGE_URL: EdgeUrl.optional(),
  AGENT_TOKEN: z.string().min(16, "must be at least 16 characters"),
  /** Relative to the working directory; ignored by git and docker (.gitignore, .dockerignore). */
  DATA_DIR: z.string().min(1).default(".data/agent"),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ADMIN_HOST: z.string().default("127.0.0.1"),
  WA_TRANSPORT: z.enum(["baileys", "simulator"]).default("baileys"),
  /** Simulator only, for tests: a simulated send waits this long after it has been posted before returning, so a
   * test can kill the agent between posting feedback and recording it. */
  SIMULATOR_SEND_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Simulator only: the port of the simulated WhatsApp media host on 127.0.0.1 (0: any free port). Simulated
   * images carry its URL, so a restarted agent finds the files it has not downloaded yet only on the same port. */
  SIMULATOR_MEDIA_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Simulator only, for tests: the media host sends half of each file, then waits this long before the rest, so
   * a test can kill the agent in the middle of a download. */
  SIMULATOR_MEDIA_STALL_MS: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});
export type AgentEnv = z.infer<typeof AgentEnv>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): AgentEnv {
  const parsed = AgentEnv.safeParse(source);
  if (parsed.success) return parsed.data;
  throw new Error(
    "invalid environment:\n" + parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n"),
  );
}
