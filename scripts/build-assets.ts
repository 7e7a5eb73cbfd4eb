// The Worker's static assets (wrangler.toml [assets], served before the Worker), built by wrangler before every
// `wrangler dev` and `wrangler deploy` ([build]): edge-api/assets/ as it is, plus the API reference's viewer from
// the pinned swagger-ui-dist package, so /docs loads nothing from another origin.
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ASSETS_DIR = path.join(ROOT, "dist", "assets");
const SWAGGER_UI = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "LICENSE", "NOTICE"];

rmSync(ASSETS_DIR, { recursive: true, force: true });
cpSync(path.join(ROOT, "edge-api", "assets"), ASSETS_DIR, { recursive: true });
for (const file of SWAGGER_UI_FILES) cpSync(path.join(SWAGGER_UI, file), path.join(ASSETS_DIR, "docs", "swagger-ui", file));
