// A real local R2 bucket for the PHOTOS binding: wrangler's getPlatformProxy runs workerd with the bindings of
// wrangler.toml, persisted in a temporary folder. The test calls the Worker in-process with it, as workerd would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getPlatformProxy } from "wrangler";
import { WRANGLER_OFFLINE_ENV } from "../../tools/wrangler.ts";
import type { PhotoBucket } from "../src/env.ts";

const WRANGLER_TOML = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));

/** What the tests do with the bucket besides the Worker's reads: put bytes as the upload route will. */
export interface LocalPhotoBucket extends PhotoBucket {
  put(key: string, value: Uint8Array, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
}

export async function localPhotoBucket(): Promise<{ bucket: LocalPhotoBucket; dispose(): Promise<void> }> {
  // Offline, as every wrangler run here: no telemetry, no look-up of Cloudflare's request properties.
  for (const [k, v] of Object.entries(WRANGLER_OFFLINE_ENV)) process.env[k] ??= v;
  const dir = await mkdtemp(path.join(tmpdir(), "wam-r2-"));
  const proxy = await getPlatformProxy<{ PHOTOS: LocalPhotoBucket }>({
    configPath: WRANGLER_TOML,
    persist: { path: dir },
    envFiles: [],
    remoteBindings: false,
  });
  return {
    bucket: proxy.env.PHOTOS,
    async dispose() {
      await proxy.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
