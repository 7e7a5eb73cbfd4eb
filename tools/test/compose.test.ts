// compose.yaml, the agent on a VPS: what operators of such tools expect of it, and in step with the image
// (Dockerfile.agent). With a Compose CLI on the machine, Compose itself validates the file too.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AGENT_MALLOC_ENV, AGENT_NODE_FLAGS } from "../agent-process.ts";
import { ROOT } from "../edge-dev.ts";

const composeText = readFileSync(path.join(ROOT, "compose.yaml"), "utf8");
const compose = parse(composeText);
const agent = compose.services.agent;
const dockerfile = readFileSync(path.join(ROOT, "Dockerfile.agent"), "utf8");

/** The image's ENV values (the `ENV A=x \ B=y` block of the final stage). */
function imageEnv(): Record<string, string> {
  const block = dockerfile.slice(dockerfile.lastIndexOf("\nENV ")).split(/\n(?![ \t])/)[1]!;
  return Object.fromEntries([...block.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

/** The Compose CLI here, if any: the docker plugin or the standalone docker-compose. */
function composeCli(): string[] | undefined {
  for (const cmd of [["docker", "compose"], ["docker-compose"]]) {
    if (spawnSync(cmd[0]!, [...cmd.slice(1), "version"], { encoding: "utf8" }).status === 0) return cmd;
  }
  return undefined;
}
const cli = composeCli();

describe("Dockerfile.agent", () => {
  it("runs the agent as the local launcher does: the same Node flags and malloc settings", () => {
    expect(dockerfile).toContain(`CMD ${JSON.stringify(["node", ...AGENT_NODE_FLAGS, "agent/src/main.ts"]).replaceAll(",", ", ")}`);
    expect(imageEnv()).toMatchObject(AGENT_MALLOC_ENV);
  });
});

describe("compose.yaml", () => {
  it("builds the agent's image and restarts it unless an operator stopped it", () => {
    expect(agent.build).toEqual({ context: ".", dockerfile: "Dockerfile.agent" });
    expect(agent.restart).toBe("unless-stopped");
  });

  it("keeps the store in a named volume at the image's DATA_DIR and mounts the config read-only at AGENT_CONFIG", () => {
    const env = imageEnv();
    const [volume, target] = (agent.volumes as string[]).find((v) => v.split(":")[1] === env.DATA_DIR)!.split(":");
    expect(Object.keys(compose.volumes)).toContain(volume);
    expect(target).toBe("/data");
    expect(agent.volumes).toContain(`./agent.yaml:${env.AGENT_CONFIG}:ro`);
  });

  it("is confined: memory capped, no capabilities, no privilege gain, a read-only root with a tmpfs", () => {
    expect(agent.mem_limit).toMatch(/^\d+[mg]$/);
    expect(agent.cap_drop).toEqual(["ALL"]);
    expect(agent.security_opt).toContain("no-new-privileges:true");
    expect(agent.read_only).toBe(true);
    expect(agent.tmpfs).toEqual([expect.stringMatching(/^\/tmp(:|$)/)]);
  });

  it("checks health the way the image does, and gives the agent longer than its 10 s shutdown to stop", () => {
    const image = /HEALTHCHECK --interval=(\S+) --timeout=(\S+) --start-period=(\S+) --retries=(\d+) \\\n\s*CMD (\[.*\])/.exec(dockerfile)!;
    expect(agent.healthcheck).toEqual({ test: ["CMD", ...JSON.parse(image[5]!)], interval: image[1], timeout: image[2], start_period: image[3], retries: Number(image[4]) });
    expect(Number.parseInt(agent.stop_grace_period)).toBeGreaterThan(10);
  });

  it("rotates its logs", () => {
    expect(agent.logging.driver).toBe("json-file");
    expect(agent.logging.options).toMatchObject({ "max-size": expect.any(String), "max-file": expect.any(String) });
  });

  it("takes the token and the edge's URL from the environment (.env), and refuses to start without them", () => {
    expect(agent.environment.AGENT_TOKEN).toMatch(/^\$\{AGENT_TOKEN:\?.+\}$/);
    expect(agent.environment.EDGE_URL).toMatch(/^\$\{EDGE_URL:\?.+\}$/);
    expect(readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n")).toContain(".env");
  });

  it.skipIf(!cli)(`is valid to Compose (${cli?.join(" ")}), and Compose would refuse an unknown key`, () => {
    const config = (file: string) =>
      spawnSync(cli![0]!, [...cli!.slice(1), "-f", file, "config", "-q"], {
        cwd: ROOT,
        env: { ...process.env, AGENT_TOKEN: "agent-token-0123456789", EDGE_URL: "https://edge.example" },
        encoding: "utf8",
      });
    const ok = config("compose.yaml");
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const dir = mkdtempSync(path.join(tmpdir(), "wam-compose-"));
    try {
      const broken = path.join(dir, "compose.yaml");
      writeFileSync(broken, composeText.replace("read_only: true", "read_onyl: true"));
      expect(config(broken).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
