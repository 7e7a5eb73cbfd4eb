// Dependencies' install scripts run only where package.json's allowScripts says so (npm 12 blocks the rest), every
// one is reviewed, and CI's strict install fails on one nobody has reviewed yet.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../edge-dev.ts";
import pkg from "../../package.json" with { type: "json" };

/** `npm install --dry-run --strict-allow-scripts` on a copy of our manifests and lockfile, with this allowScripts. */
function strictDryRun(allowScripts: Record<string, boolean>) {
  const dir = mkdtempSync(path.join(tmpdir(), "wam-scripts-"));
  try {
    for (const f of ["package-lock.json", ".npmrc", ...pkg.workspaces.map((w) => `${w}/package.json`)]) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      cpSync(path.join(ROOT, f), path.join(dir, f));
    }
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ ...pkg, allowScripts }, null, 2));
    const run = spawnSync("npm", ["install", "--dry-run", "--offline", "--no-audit", "--no-fund", "--strict-allow-scripts"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    return { status: run.status, output: run.stdout + run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("install scripts", () => {
  it("every installed dependency's install script is reviewed in allowScripts", () => {
    const run = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("No packages with unreviewed install scripts.");
  });

  it("the strict install takes our lockfile as it is, without a warning", () => {
    const run = strictDryRun(pkg.allowScripts);
    expect(run.output).not.toContain("install-scripts");
    expect(run.status).toBe(0);
  });

  it("the strict install refuses a dependency whose script nobody has reviewed, and CI installs strictly", () => {
    const { workerd: _, ...withoutWorkerd } = pkg.allowScripts;
    const run = strictDryRun(withoutWorkerd);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("ESTRICTALLOWSCRIPTS");
    expect(run.output).toContain("workerd");
    expect(readFileSync(path.join(ROOT, ".ci/run"), "utf8")).toMatch(/^npm ci .*--strict-allow-scripts/m);
  });
});
