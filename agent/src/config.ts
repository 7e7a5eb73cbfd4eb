// agent.yaml: parsed with `yaml`, validated with zod. Every error names the file, line and field, and a bad
// file means the agent refuses to start.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { createDropDetector, GroupJid, ProjectInput, SessionName } from "@wa-monitor/shared";
import { isNode, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { EdgeUrl } from "./edge-url.ts";

export const SessionConfig = z.object({
  name: SessionName,
  /** capture: watches groups for drops; sender: posts feedback; both. */
  role: z.enum(["capture", "sender", "both"]),
  /** With a phone number the session logs in by pairing code instead of QR. */
  phone: z
    .string()
    .regex(/^\+?[0-9]{8,15}$/, "international number, digits only, e.g. +27821234567")
    .transform((p) => p.replace(/^\+/, ""))
    .optional(),
});
export type SessionConfig = z.infer<typeof SessionConfig>;

const Pattern = z.string().refine((p) => {
  try {
    createDropDetector(p);
    return true;
  } catch {
    return false;
  }
}, "not a valid regular expression");

export const ProjectConfig = ProjectInput.extend({
  groupJid: GroupJid,
  enabled: z.boolean().default(true),
  pattern: Pattern.optional(),
});
export type ProjectConfig = z.infer<typeof ProjectConfig>;

export const AgentConfig = z
  .object({
    edgeUrl: EdgeUrl.default("http://127.0.0.1:8787"),
    /** How this agent names itself in heartbeats (the edge's session list). */
    agentName: z.string().trim().min(1).max(100).default(hostname()),
    sessions: z.array(SessionConfig).min(1),
    projects: z.array(ProjectConfig).min(1),
    watchdog: z
      .object({
        /**
         * An open session whose socket has received nothing at all for this long (not even the answer to
         * Baileys' keepalive ping, every 30 s) is marked stale and its socket restarted. Quiet groups do not
         * count: liveness is what arrives on the socket, not messages.
         */
        staleAfterSeconds: z.number().int().min(60).default(300),
        checkEverySeconds: z.number().int().min(1).default(60),
      })
      .prefault({}),
    backoff: z
      .object({
        initialMs: z.number().int().min(10).default(1000),
        maxMs: z.number().int().min(100).default(60_000),
      })
      .prefault({}),
    delivery: z
      .object({
        batchSize: z.number().int().min(1).max(500).default(500),
        pollMs: z.number().int().min(50).default(1000),
      })
      .prefault({}),
    feedback: z
      .object({
        /** How often the edge is asked for feedback to send. */
        pollMs: z.number().int().min(100).max(60_000).default(5000),
        /** Messages claimed per poll. The edge hands out up to 500, but each is sent one by one within its
         * lease (120 s): a claim larger than the agent can send in time comes back as failed attempts. */
        batchSize: z.number().int().min(1).max(50).default(10),
      })
      .prefault({}),
    heartbeatSeconds: z.number().int().min(1).max(300).default(30),
    /** History sync (pairing a number brings in weeks of it): messages older than this are stored, not submitted.
     * Live and offline catch-up messages are submitted whatever their age. */
    historyDays: z.number().int().min(0).max(3650).default(3),
    /** Messages and delivered outbox rows older than this leave the agent's store (the edge keeps them). */
    retentionDays: z.number().int().min(1).max(3650).default(90),
    media: z
      .object({
        /** Bytes of images the edge has leave the agent's store this long after their upload; bytes not yet
         * uploaded never do. */
        retentionDays: z.number().int().min(1).max(3650).default(7),
        /** Bandwidth for images, downloads from WhatsApp and (later) uploads to the edge alike: a burst of photos
         * must not take the line drops travel on. 30 MiB a minute is about 4 Mbit/s. */
        maxBytesPerMinute: z.number().int().min(100_000).default(30 * 1024 * 1024),
        /** Attempts before an image whose download keeps failing is given up (state failed). Failures to reach
         * WhatsApp at all (the network is down) do not count. */
        maxAttempts: z.number().int().min(1).max(100).default(10),
        backoff: z
          .object({
            initialMs: z.number().int().min(10).default(5_000),
            /** Each retry of an expired image asks the sender's phone again: not too often. */
            maxMs: z.number().int().min(100).default(30 * 60_000),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const dup = <T>(items: T[], key: (t: T) => string, path: (i: number) => (string | number)[], what: string) => {
      const seen = new Set<string>();
      items.forEach((it, i) => {
        const k = key(it);
        if (seen.has(k)) ctx.addIssue({ code: "custom", path: path(i), message: `duplicate ${what} ${k}` });
        seen.add(k);
      });
    };
    dup(c.sessions, (s) => s.name, (i) => ["sessions", i, "name"], "session name");
    dup(c.projects, (p) => p.name, (i) => ["projects", i, "name"], "project name");
    dup(c.projects, (p) => p.groupJid, (i) => ["projects", i, "groupJid"], "group JID");
    if (!c.sessions.some((s) => s.role !== "sender")) {
      ctx.addIssue({ code: "custom", path: ["sessions"], message: "at least one session must capture (role capture or both)" });
    }
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

export class ConfigFileError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("\n"));
    this.problems = problems;
  }
}

const fieldPath = (path: PropertyKey[]) =>
  path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");

/** Parses and validates YAML text; `file` only names it in errors. */
export function parseConfig(text: string, file: string): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    throw new ConfigFileError(doc.errors.map((e) => `${where(e.pos[0])}: ${e.message.split("\n")[0]}`));
  }
  const parsed = AgentConfig.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  throw new ConfigFileError(
    parsed.error.issues.map((issue) => {
      // Point at the deepest node that exists on the path: a missing field is reported at its parent.
      let offset: number | undefined;
      for (let n = issue.path.length; n >= 0 && offset === undefined; n--) {
        const node = doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
        if (isNode(node) && node.range) offset = node.range[0];
        else if (n === 0 && doc.contents?.range) offset = doc.contents.range[0];
      }
      const field = fieldPath(issue.path) || "(top level)";
      return `${where(offset)}: ${field}: ${issue.message}`;
    }),
  );
}

export function loadConfigFile(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigFileError([`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseConfig(text, file);
}

export function captureSessions(c: AgentConfig): SessionConfig[] {
  return c.sessions.filter((s) => s.role !== "sender");
}
