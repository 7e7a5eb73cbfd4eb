// Builds the QA dashboard into dist/dashboard, the Worker's static assets ([assets] in wrangler.toml): the page
// and its CSS as written, the script bundled from TypeScript by esbuild (the one wrangler itself uses), and the
// _headers file that applies the page's security headers (edge-api/src/http/page-headers.ts) to every asset.
// Wrangler runs it before `wrangler dev` and `wrangler deploy` ([build] in wrangler.toml).
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { PAGE_HEADERS } from "../edge-api/src/http/page-headers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE = path.join(ROOT, "edge-api/dashboard");
const ASSETS = path.join(ROOT, "dist/dashboard");

/** Cloudflare's _headers format: a path pattern, then its headers indented. */
function headersFile(headers: Record<string, string>): string {
  return ["/*", ...Object.entries(headers).map(([k, v]) => `  ${k}: ${v}`)].join("\n") + "\n";
}

async function bundleScript(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: [path.join(SOURCE, "src/main.ts")],
    outfile: path.join(ASSETS, "dashboard.js"),
    bundle: true,
    format: "iife",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    write: false,
    logLevel: "warning",
  });
  return new Map(result.outputFiles.map((f) => [path.basename(f.path), f.contents]));
}

// Parallel test files each run `wrangler dev`, which builds and then watches the assets folder: a file is
// replaced only when its bytes change, and atomically (written beside the folder, then renamed in), so no
// running instance reloads for nothing or serves half a file.
async function put(name: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(ASSETS, name);
  const old = await readFile(file).catch(() => undefined);
  if (old && Buffer.compare(old, bytes) === 0) return;
  const tmp = path.join(ASSETS, "..", `.dashboard-${process.pid}-${name}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

await mkdir(ASSETS, { recursive: true });
const files = await bundleScript();
for (const name of ["index.html", "dashboard.css"]) files.set(name, await readFile(path.join(SOURCE, name)));
files.set("_headers", new TextEncoder().encode(headersFile(PAGE_HEADERS)));
for (const [name, bytes] of files) await put(name, bytes);
// Whatever an earlier build left that this one no longer makes would otherwise be deployed with it.
for (const name of await readdir(ASSETS)) if (!files.has(name)) await rm(path.join(ASSETS, name));
