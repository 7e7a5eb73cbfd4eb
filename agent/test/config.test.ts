import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigFileError, loadConfigFile, parseConfig } from "../src/config.ts";
import { loadEnv } from "../src/env.ts";
import { tempDir } from "./helpers.ts";

const run = promisify(execFile);
const main = path.resolve(import.meta.dirname, "../src/main.ts");
const example = path.resolve(import.meta.dirname, "../agent.example.yaml");
const root = path.resolve(import.meta.dirname, "../..");

function problems(text: string): string[] {
  try {
    parseConfig(text, "agent.yaml");
  } catch (err) {
    if (err instanceof ConfigFileError) return err.problems;
    throw err;
  }
  throw new Error("config was accepted");
}

const base = `sessions:
  - name: primary
    role: capture
projects:
  - name: Lawley
    groupJid: 120363418298130331@g.us
`;

describe("agent config", () => {
  it("accepts the shipped example with the four projects", () => {
    const c = loadConfigFile(example);
    expect(c.projects.map((p) => [p.name, p.groupJid])).toEqual([
      ["Lawley", "120363418298130331@g.us"],
      ["Velo Test", "120363421664266245@g.us"],
      ["Mohadin", "120363421532174586@g.us"],
      ["Mamelodi", "120363408849234743@g.us"],
    ]);
    expect(c.sessions.map((s) => s.name)).toEqual(["primary", "backup", "sender"]);
  });

  it("fills defaults", () => {
    const c = parseConfig(base, "agent.yaml");
    expect(c.watchdog).toEqual({ staleAfterSeconds: 300, checkEverySeconds: 60 });
    expect(c.projects[0]!.enabled).toBe(true);
  });

  it("names file, line, column and field of a bad value", () => {
    expect(problems(base.replace("role: capture", "role: watcher"))).toEqual([
      expect.stringMatching(/^agent\.yaml:3:11: sessions\[0\]\.role: /),
    ]);
    expect(problems(base.replace("120363418298130331@g.us", "27821234567@s.whatsapp.net"))).toEqual([
      expect.stringMatching(/^agent\.yaml:6:15: projects\[0\]\.groupJid: group JID must look like/),
    ]);
  });

  it("has a media block with defaults, and names a bad media value", () => {
    expect(parseConfig(base, "agent.yaml").media).toEqual({
      retentionDays: 7,
      maxBytesPerMinute: 30 * 1024 * 1024,
      maxAttempts: 10,
      backoff: { initialMs: 5000, maxMs: 1_800_000 },
    });
    expect(parseConfig(base + "media:\n  maxBytesPerMinute: 1048576\n", "agent.yaml").media).toMatchObject({ maxBytesPerMinute: 1_048_576, retentionDays: 7 });
    expect(loadConfigFile(example).media).toMatchObject({ retentionDays: 7, maxBytesPerMinute: 31_457_280 });
    expect(problems(base + "media:\n  retentionDays: 0\n")).toEqual([expect.stringMatching(/^agent\.yaml:8:18: media\.retentionDays: /)]);
  });

  it("reports a missing field at its parent", () => {
    expect(problems(base.replace("    role: capture\n", ""))).toEqual([expect.stringMatching(/^agent\.yaml:2:5: sessions\[0\]\.role: /)]);
  });

  it("rejects an invalid per-project pattern, duplicates, and a config with no capturing session", () => {
    expect(problems(base + '    pattern: "DR(["\n')).toEqual([expect.stringMatching(/projects\[0\]\.pattern: not a valid regular expression/)]);
    const dupes = base + "  - name: Lawley\n    groupJid: 120363418298130331@g.us\n";
    expect(problems(dupes)).toEqual([
      expect.stringMatching(/agent\.yaml:7:11: projects\[1\]\.name: duplicate project name/),
      expect.stringMatching(/agent\.yaml:8:15: projects\[1\]\.groupJid: duplicate group JID/),
    ]);
    expect(problems(base.replace("role: capture", "role: sender"))).toEqual([expect.stringMatching(/sessions: at least one session must capture/)]);
  });

  it("reports YAML syntax errors with their line", () => {
    expect(problems("sessions: [\n  - x\nprojects: {")[0]).toMatch(/^agent\.yaml:\d+:\d+: /);
    expect(problems("a: 1\na: 2\n")[0]).toMatch(/^agent\.yaml:2:1: .*[Uu]nique/);
  });

  it("check-config exits 0 for a good file and 1 with the problems for a bad one", async () => {
    const ok = await run(process.execPath, [main, "check-config", example]);
    expect(ok.stdout).toMatch(/ok — 3 session\(s\).*4 project\(s\)/);
    const dir = await tempDir();
    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, base.replace("role: capture", "role: nope"));
    const err = await run(process.execPath, [main, "check-config", bad]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`${bad}:3:11: sessions[0].role`);
  });

  it("refuses to start with a bad config or environment", async () => {
    const dir = await tempDir();
    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, "sessions: []\n");
    const err = await run(process.execPath, [main], {
      env: { ...process.env, AGENT_CONFIG: bad, AGENT_TOKEN: "x".repeat(20), DATA_DIR: dir },
    }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`${bad}:1:11: sessions`);
    const noToken = await run(process.execPath, [main], { env: { ...process.env, AGENT_CONFIG: example, AGENT_TOKEN: "" } }).catch((e) => e);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("AGENT_TOKEN");
  });

  it("validates historyDays and defaults it to 3", () => {
    expect(parseConfig(base, "agent.yaml").historyDays).toBe(3);
    expect(parseConfig(base + "historyDays: 0\n", "agent.yaml").historyDays).toBe(0);
    expect(problems(base + "historyDays: -1\n")).toEqual([expect.stringMatching(/^agent\.yaml:7:14: historyDays: /)]);
    expect(problems(base + "historyDays: 1.5\n")).toEqual([expect.stringMatching(/^agent\.yaml:7:14: historyDays: /)]);
  });

  it("keeps its data in .data/agent by default, which git and docker both ignore", async () => {
    expect(loadEnv({ AGENT_TOKEN: "x".repeat(20) }).DATA_DIR).toBe(".data/agent");
    for (const file of [".data/agent/agent.sqlite", ".data/agent/agent.sqlite-wal", ".data/agent/agent.lock", "data/agent.sqlite", "agent/data/agent.sqlite"]) {
      // Exits 0 only when the path is ignored.
      await run("git", ["-C", root, "check-ignore", "--quiet", "--no-index", file]);
    }
    const dockerignore = (await readFile(path.join(root, ".dockerignore"), "utf8")).split("\n");
    expect(dockerignore).toEqual(expect.arrayContaining([".data", "**/.data", "data", "**/data", "**/*.sqlite"]));
  });

  it("refuses a plain http:// edge URL to anything but a loopback address, in the config and the environment", () => {
    for (const ok of ["https://edge.example.com", "http://127.0.0.1:8787", "http://127.3.2.1", "http://localhost:8787/", "http://[::1]:8787"]) {
      expect(parseConfig(`edgeUrl: ${ok}\n` + base, "agent.yaml").edgeUrl).toBe(ok);
      expect(loadEnv({ AGENT_TOKEN: "x".repeat(20), EDGE_URL: ok }).EDGE_URL).toBe(ok);
    }
    for (const bad of ["http://edge.example.com", "http://10.0.0.5:8787", "http://localhost.example.com", "http://[::2]:8787", "ftp://127.0.0.1"]) {
      expect(problems(`edgeUrl: ${bad}\n` + base)).toEqual([expect.stringMatching(/^agent\.yaml:1:10: edgeUrl: /)]);
      expect(() => loadEnv({ AGENT_TOKEN: "x".repeat(20), EDGE_URL: bad })).toThrow(/EDGE_URL: /);
    }
    expect(problems("edgeUrl: http://edge.example.com\n" + base)[0]).toContain("plain http:// would send the agent token in clear");
  });
});
