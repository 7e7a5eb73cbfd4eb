// The agent's edge client takes its routes from the edge's app as a type only: at run time the agent loads no
// edge code (the image ships without edge-api/).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

// Prints every module Node resolves while the agent's module graph loads.
const RECORD_RESOLVES = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from "node:module";
  registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); process.stdout.write(r.url + "\\n"); return r; } });
`)}`;

describe("the agent's edge client", () => {
  it("loads no edge code when the agent's modules load", async () => {
    const { stdout } = await run(process.execPath, ["--import", RECORD_RESOLVES, "-e", 'await import("./agent/src/agent.ts")', "--input-type=module"], {
      cwd: ROOT,
    });
    const loaded = stdout.split("\n").filter(Boolean);
    expect(loaded.some((u) => u.endsWith("/agent/src/sync/edge-client.ts"))).toBe(true);
    expect(loaded.some((u) => u.includes("/hono/dist/client/"))).toBe(true);
    expect(loaded.filter((u) => u.includes("/edge-api/"))).toEqual([]);
  });
});
