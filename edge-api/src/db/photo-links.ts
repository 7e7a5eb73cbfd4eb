// replaced by the link helper at merge: the linking rules (caption, reply, sender window; manual links win),
// recomputed for the photos in scope inside the caller's transaction.
import type { Queryable } from "./client.ts";

export async function relinkPhotos(_q: Queryable, _scope: { photoIds: string[] }): Promise<void> {}
