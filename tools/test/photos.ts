// This test file's local R2 bucket (tools/r2.ts), started on first use and shared by the file's tests (objects are
// keyed by their SHA-256, so tests do not see each other's unless they upload the same bytes). file-setup.ts ends
// it after the file's tests. wrangler is loaded only by files that use it.
import type { LocalR2 } from "../r2.ts";

let started: Promise<LocalR2> | undefined;

export function testPhotos(): Promise<LocalR2> {
  return (started ??= import("../r2.ts").then((m) => m.startLocalR2()));
}

export async function disposeTestPhotos(): Promise<void> {
  const r2 = started;
  started = undefined;
  if (r2) await (await r2).dispose();
}
