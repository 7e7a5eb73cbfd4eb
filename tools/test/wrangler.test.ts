// wrangler, as tests and local scripts run it, sends Cloudflare nothing: no usage metrics, no error reports.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../edge-dev.ts";
import pkg from "../../package.json" with { type: "json" };

describe("wrangler telemetry", () => {
  it("is off for wrangler run through tools/wrangler.ts", () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, "tools/wrangler.ts"), "telemetry", "status"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Status: Disabled/);
  });

  it("every npm script runs wrangler through tools/wrangler.ts", () => {
    const bare = Object.entries(pkg.scripts).filter(([, cmd]) => /(^|[;&|]\s*)(npx\s+)?wrangler\b/.test(cmd));
    expect(bare).toEqual([]);
    expect(pkg.scripts["build:edge"]).toContain("node tools/wrangler.ts deploy");
  });
});
