// Builds the Worker's static assets into dist/assets ([assets] in wrangler.toml, served before the Worker runs):
// the QA dashboard — its page and CSS as written, its script bundled from TypeScript by esbuild (the one wrangler
// itself uses) — the API reference's viewer for /docs (edge-api/assets/ plus the pinned swagger-ui-dist files,
// so /docs loads nothing from another origin), and the _headers file that applies the pages' security headers
// (edge-api/src/http/page-headers.ts) to every asset. Wrangler runs it before `wrangler dev` and `wrangler
// deploy` ([build] in wrangler.toml).
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { PAGE_HEADERS } from "../edge-api/src/http/page-headers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DASHBOARD = path.join(ROOT, "edge-api/dashboard");
const STATIC = path.join(ROOT, "edge-api/assets");
const ASSETS = path.join(ROOT, "dist/assets");
const SWAGGER_UI = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "LICENSE", "NOTICE"];

/** Cloudflare's _headers format: a path pattern, then its headers indented. */
function headersFile(headers: Record<string, string>): string {
  return ["/*", ...Object.entries(headers).map(([k, v]) => `  ${k}: ${v}`)].join("\n") + "\n";
}

async function bundleScript(): Promise<[string, Uint8Array][]> {
  const result = await build({
    entryPoints: [path.join(DASHBOARD, "src/main.ts")],
    outfile: path.join(ASSETS, "dashboard.js"),
    bundle: true,
    format: "iife",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles.map((f) => [path.basename(f.path), f.contents]);
}

async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

// Parallel test files each run `wrangler dev`, which builds and then watches the assets folder: a file is
// replaced only when its bytes change, and atomically (written beside the folder, then renamed in), so no
// running instance reloads for nothing or serves half a file.
async function put(name: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(ASSETS, name);
  const old = await readFile(file).catch(() => undefined);
  if (old && Buffer.compare(old, bytes) === 0) return;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(ASSETS, "..", `.assets-${process.pid}-${path.basename(name)}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

const files = new Map<string, Uint8Array>(await bundleScript());
for (const name of ["index.html", "dashboard.css"]) files.set(name, await readFile(path.join(DASHBOARD, name)));
for (const name of await filesUnder(STATIC)) files.set(name, await readFile(path.join(STATIC, name)));
for (const name of SWAGGER_UI_FILES) files.set(path.join("docs/swagger-ui", name), await readFile(path.join(SWAGGER_UI, name)));
files.set("_headers", new TextEncoder().encode(headersFile(PAGE_HEADERS)));

await mkdir(ASSETS, { recursive: true });
for (const [name, bytes] of files) await put(name, bytes);
// Whatever an earlier build left that this one no longer makes would otherwise be deployed with it.
for (const name of await filesUnder(ASSETS)) if (!files.has(name)) await rm(path.join(ASSETS, name));
