// A reviewer's edits of a photo (PATCH /v1/photos/:id): its QA step tag, and a link by hand. A manual link —
// or unlink, with dropNumber null — is kept on the photo (manual_link, manual_drop) and wins over the rules at
// every recomputation after it.
import type { PhotoPatchRequest } from "@wa-monitor/shared";
import type { Db } from "./client.ts";
import { relinkPhotos } from "./photo-links.ts";
import { getPhotoItem, type PhotoItem } from "./photo-views.ts";

// Changes nothing unless the photo and the named drop both exist. $2/$4: whether step / dropNumber were given.
const EDIT = /* sql */ `
  WITH drop_known AS (
    SELECT $5::text IS NULL OR EXISTS (SELECT 1 FROM drops WHERE drop_number = $5) AS ok
  ),
  edited AS (
    UPDATE photos SET
      step        = CASE WHEN $2 THEN $3 ELSE step END,
      manual_link = manual_link OR $4,
      manual_drop = CASE WHEN $4 THEN $5 ELSE manual_drop END,
      updated_at  = now()
    WHERE id = $1 AND (SELECT ok FROM drop_known)
    RETURNING id
  )
  SELECT EXISTS (SELECT 1 FROM photos WHERE id = $1) AS photo_known, (SELECT ok FROM drop_known) AS drop_known`;

export type PhotoEdit = { found: PhotoItem } | { missing: "photo" | "drop" };

export async function editPhoto(db: Db, id: string, patch: PhotoPatchRequest, photoWindowMinutes: number): Promise<PhotoEdit> {
  return db.tx(async (q) => {
    const relink = patch.dropNumber !== undefined;
    const [row] = await q.query<{ photo_known: boolean; drop_known: boolean }>(EDIT, [
      id,
      patch.step !== undefined,
      patch.step ?? null,
      relink,
      patch.dropNumber ?? null,
    ]);
    if (!row!.photo_known) return { missing: "photo" };
    if (!row!.drop_known) return { missing: "drop" };
    // The photo's row first, then the link locks: the order photo ingest takes them in.
    if (relink) await relinkPhotos(q, { photoIds: [id] }, photoWindowMinutes);
    return { found: (await getPhotoItem(q, id))! };
  });
}
