// A newcomer on an old Node: `npm install && npm start` stops within a second, saying which Node is needed and the
// one command that gets it, instead of installing and then failing on our .ts files (ERR_UNKNOWN_FILE_EXTENSION).
// Run under the machine's own old Node when it has one (these machines ship Node 20).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../edge-dev.ts";
import pkg from "../../package.json" with { type: "json" };

const CHECK = path.join(ROOT, "scripts/check-node.cjs");

/** The first `node` on the machine older than engines.node, if any. */
function findOldNode(): string | undefined {
  const which = spawnSync("sh", ["-c", "which -a node"], { env: { PATH: `${process.env.PATH}:/usr/local/bin:/usr/bin:/bin` }, encoding: "utf8" });
  const candidates = [...new Set(which.stdout.split("\n").filter(Boolean).map((p) => realpathSync(p)))];
  return candidates.find((node) => spawnSync(node, [CHECK, "--quiet"]).status === 1);
}
const oldNode = findOldNode();

/** Only the old Node (and the npm beside it or the system's) on PATH, and no npm settings from our own run. */
function oldNodeEnv(): NodeJS.ProcessEnv {
  return { PATH: `${path.dirname(oldNode!)}:/usr/bin:/bin`, HOME: process.env.HOME };
}

const expectTheWayOut = (output: string) => {
  expect(output).toContain(pkg.engines.node);
  expect(output).toContain("source scripts/node-env.sh");
};

describe("Node version", () => {
  it("the check passes silently on this Node", () => {
    const run = spawnSync(process.execPath, [CHECK], { encoding: "utf8" });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  });

  describe.skipIf(!oldNode)(`on this machine's older Node (${oldNode})`, () => {
    it("the check stops, naming the Node needed, the Node found and the command that gets the right one", () => {
      const run = spawnSync(oldNode!, [CHECK], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expectTheWayOut(run.stderr);
      expect(run.stderr).toContain(spawnSync(oldNode!, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim());
    });

    it("npm install stops before installing anything, with the same way out", () => {
      // The files npm reads before it installs: the manifests, the lockfile and .npmrc.
      const dir = mkdtempSync(path.join(tmpdir(), "wam-old-node-"));
      for (const f of ["package.json", "package-lock.json", ".npmrc", ...pkg.workspaces.map((w) => `${w}/package.json`)]) {
        if (!existsSync(path.join(ROOT, f))) continue;
        mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        cpSync(path.join(ROOT, f), path.join(dir, f));
      }
      try {
        const run = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund"], { cwd: dir, env: oldNodeEnv(), encoding: "utf8", timeout: 60_000 });
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain("EBADENGINE");
        expectTheWayOut(run.stderr);
        expect(existsSync(path.join(dir, "node_modules"))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("npm start stops with the same way out, before Node meets a .ts file", () => {
      const run = spawnSync("npm", ["start"], { cwd: ROOT, env: oldNodeEnv(), encoding: "utf8", timeout: 60_000 });
      expect(run.status).toBe(1);
      expectTheWayOut(run.stderr);
      expect(run.stderr).not.toContain("ERR_UNKNOWN_FILE_EXTENSION");
    });
  });
});
