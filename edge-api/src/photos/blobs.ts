// The photos' bytes in R2 (the PHOTOS binding), one object per content under `photos/<sha256>`, with the content
// type it is served with. Content-addressed, so storing is idempotent and two messages with the same photo (or
// two agents uploading it) share one object.
import type { R2Bucket } from "@cloudflare/workers-types/index.ts";
import type { PhotoMimetype } from "@wa-monitor/shared";

export const photoKey = (sha256: string) => `photos/${sha256}`;

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What R2 holds under a hash: its size and content type; null when it holds nothing. */
export async function blobInfo(bucket: R2Bucket, sha256: string): Promise<{ bytes: number; mimetype: string } | null> {
  const head = await bucket.head(photoKey(sha256));
  return head ? { bytes: head.size, mimetype: head.httpMetadata?.contentType ?? "application/octet-stream" } : null;
}

/**
 * Stores bytes already verified to hash to `sha256`; false when R2 had them. R2 checks the hash again on its side
 * (the put names it), so an object under a hash is always those bytes.
 */
export async function storeBlob(bucket: R2Bucket, sha256: string, bytes: ArrayBuffer, mimetype: PhotoMimetype): Promise<boolean> {
  if (await bucket.head(photoKey(sha256))) return false;
  await bucket.put(photoKey(sha256), bytes, { sha256, httpMetadata: { contentType: mimetype } });
  return true;
}

/** Those of the hashes R2 does not hold. */
export async function missingBlobs(bucket: R2Bucket, hashes: Iterable<string>): Promise<Set<string>> {
  const unique = [...new Set(hashes)];
  const heads = await Promise.all(unique.map((h) => bucket.head(photoKey(h))));
  return new Set(unique.filter((_, i) => heads[i] === null));
}
