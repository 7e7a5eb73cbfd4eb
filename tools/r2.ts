// The Worker's R2 bucket (PHOTOS) in Node, for the in-process Worker of the tests and the benchmark: wrangler's
// getPlatformProxy builds the bindings wrangler.toml declares on a local workerd, the same R2 implementation
// `wrangler dev` serves, with its objects persisted under a directory. ~250 ms to start, so once per test file.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { R2Bucket } from "@cloudflare/workers-types/index.ts";
import { getPlatformProxy } from "wrangler";
import { ROOT } from "./edge-dev.ts";
import { WRANGLER_OFFLINE_ENV } from "./wrangler.ts";

export interface LocalR2 {
  PHOTOS: R2Bucket;
  /** Where its objects are kept. */
  dir: string;
  dispose(): Promise<void>;
}

/** PHOTOS as wrangler.toml binds it, kept in `dir` (a fresh temporary directory, removed on dispose, if not given). */
export async function startLocalR2(dir?: string): Promise<LocalR2> {
  Object.assign(process.env, WRANGLER_OFFLINE_ENV);
  const own = dir === undefined;
  const where = dir ?? (await mkdtemp(path.join(tmpdir(), "wam-r2-")));
  const proxy = await getPlatformProxy<{ PHOTOS: R2Bucket }>({
    configPath: path.join(ROOT, "wrangler.toml"),
    persist: { path: where },
  });
  return {
    PHOTOS: proxy.env.PHOTOS,
    dir: where,
    async dispose() {
      await proxy.dispose();
      if (own) await rm(where, { recursive: true, force: true });
    },
  };
}
