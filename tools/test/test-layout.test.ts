// Test code both workspaces use lives in tools/test/; a workspace's tests never reach into another workspace's
// test folder, so each can change its own helpers without breaking the other's.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../edge-dev.ts";

const WORKSPACE_TESTS = ["shared/test", "edge-api/test", "agent/test"];

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

/** Relative module specifiers of a file's imports and re-exports, static and dynamic. */
function relativeImports(file: string): string[] {
  const source = readFileSync(path.join(ROOT, file), "utf8");
  return [...source.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)].map((m) => m[1]!);
}

describe("test layout", () => {
  it("no workspace's tests import another workspace's tests", () => {
    const crossings = WORKSPACE_TESTS.flatMap((own) =>
      files(own).flatMap((file) =>
        relativeImports(file)
          .map((spec) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)))
          .filter((target) => WORKSPACE_TESTS.some((other) => other !== own && target.startsWith(other + path.sep)))
          .map((target) => `${file} → ${target}`),
      ),
    );
    expect(crossings).toEqual([]);
  });
});
