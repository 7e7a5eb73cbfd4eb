// wrangler as the tests and local scripts run it: no usage metrics or error reports sent to Cloudflare, no
// banner, no look-ups of Cloudflare's network. `node tools/wrangler.ts ARGS…` runs it that way from npm scripts;
// tools/edge-dev.ts spawns `wrangler dev` with the same environment.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

/** wrangler's own entry point, run with this Node. */
export const WRANGLER_BIN = path.join(path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const child = spawn(process.execPath, [WRANGLER_BIN, ...process.argv.slice(2)], {
    env: { ...process.env, ...WRANGLER_OFFLINE_ENV },
    stdio: "inherit",
  });
  // Ctrl-C reaches wrangler through the terminal's process group; this process only reports how it ended.
  process.on("SIGINT", () => {});
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
