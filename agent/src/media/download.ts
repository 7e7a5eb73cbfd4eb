// One image download through Baileys' own decrypting download (downloadMediaMessage: the URL from the message,
// AES-256-CBC with keys from the media key). Expired media (the server answers 404 or 410) is re-uploaded by
// the sender's phone on request (Baileys' updateMediaMessage), and the download goes to the new copy.
//
// Baileys 7.0.0-rc14 passes `reuploadRequest` but never calls it: it looks for the HTTP status in `error.status`,
// and the error it throws is a Boom carrying it in `output.statusCode` (WhiskeySockets/Baileys#2767). So the
// re-upload is also asked for here, once per attempt, whichever of the two notices the expiry.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { downloadMediaMessage, type proto, type WAMessage } from "baileys";
import type { Logger } from "pino";
import type { MediaRow } from "../store/media.ts";

/** Why a download did not bring bytes, and so what happens to the record. */
export type FailureKind =
  /** Over the size limit: recorded without bytes. */
  | "too_large"
  /** Something about this image went wrong: counted, retried with backoff, given up after maxAttempts. */
  | "retry"
  /** WhatsApp could not be reached at all, or no session could ask for a re-upload: not counted. */
  | "offline";

export class MediaDownloadError extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** How long a download may go without receiving anything (the connection is then taken for lost). */
const IDLE_TIMEOUT_MS = 60_000;
/** How long the sender's phone has to answer a re-upload request (Baileys itself waits forever). */
const REUPLOAD_TIMEOUT_MS = 60_000;
const EXPIRED = new Set([404, 410]);

export interface DownloadDeps {
  log: Logger;
  maxBytes: number;
  signal: AbortSignal;
  /** Asks the sender's phone to upload the media again; resolves with the message pointing at the new copy. */
  reupload(message: WAMessage): Promise<WAMessage>;
  /** The media's new location after a re-upload, to keep (a later attempt, after a restart too, goes there). */
  relocated(url: string | null, directPath: string | null): void;
}

/** The message Baileys downloads from: the record's key and media fields, whatever session stored it. */
export function messageFor(row: MediaRow): WAMessage {
  const media = {
    url: row.url,
    directPath: row.directPath,
    mediaKey: row.mediaKey,
    mimetype: row.mimetype,
    fileSha256: row.fileSha256,
    fileEncSha256: row.fileEncSha256,
    fileLength: row.fileLength,
  };
  return {
    key: { remoteJid: row.chatJid, id: row.messageId, fromMe: row.fromMe, participant: row.senderJid ?? undefined },
    message: row.kind === "image" ? { imageMessage: media } : { documentMessage: media },
  };
}

/** The HTTP status of a media server's answer, when the error is one. */
function httpStatus(err: unknown): number | undefined {
  const e = err as { isBoom?: boolean; data?: { url?: unknown }; output?: { statusCode?: number }; status?: unknown };
  if (typeof e?.status === "number") return e.status;
  return e?.isBoom && e.data?.url !== undefined ? e.output?.statusCode : undefined;
}

/** A failure to talk to the server at all (refused, reset, DNS, cut off), as opposed to an answer about the file. */
function isNetworkError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? "";
  return (e?.name === "TypeError" && /fetch failed|terminated/.test(e.message ?? "")) || /^(E(CONN|HOST|NET|PIPE|AI_|TIMEDOUT|NOTFOUND)|UND_ERR)/.test(code);
}

function classify(err: unknown, what: string): MediaDownloadError {
  if (err instanceof MediaDownloadError) return err;
  const message = `${what}: ${(err as Error)?.message ?? String(err)}`;
  if (httpStatus(err) === undefined && isNetworkError(err)) return new MediaDownloadError("offline", message, { cause: err });
  return new MediaDownloadError("retry", message, { cause: err });
}

/** Settles with `work`, or rejects when `ms` pass or `signal` aborts first; what `work` brings after that is
 * handed to `discard`. */
function within<T>(work: Promise<T>, ms: number, signal: AbortSignal, onTimeout: () => MediaDownloadError, discard?: (late: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(() => reject(onTimeout())), ms);
    const onAbort = () => finish(() => reject(new MediaDownloadError("offline", "download abandoned: the agent is stopping")));
    const finish = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      then();
    };
    work.then(
      (v) => (settled ? discard?.(v) : finish(() => resolve(v))),
      (e) => finish(() => reject(e)),
    );
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Reads the decrypted stream to its end, counting as it goes: more than `maxBytes` stops it at once. */
function readAll(stream: Readable, maxBytes: number, signal: AbortSignal): Promise<{ bytes: Buffer; sha256: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const hash = createHash("sha256");
    let size = 0;
    const idle = setTimeout(() => fail(new MediaDownloadError("offline", `nothing received for ${IDLE_TIMEOUT_MS / 1000} s`)), IDLE_TIMEOUT_MS);
    const onAbort = () => fail(new MediaDownloadError("offline", "download abandoned: the agent is stopping"));
    const cleanup = () => {
      clearTimeout(idle);
      signal.removeEventListener("abort", onAbort);
    };
    function fail(err: unknown) {
      cleanup();
      stream.destroy();
      reject(err);
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return fail(new MediaDownloadError("too_large", `more than ${maxBytes} bytes received`));
      chunks.push(chunk);
      hash.update(chunk);
      idle.refresh();
    });
    stream.on("error", (err) => fail(classify(err, "download")));
    stream.once("end", () => {
      cleanup();
      resolve({ bytes: Buffer.concat(chunks, size), sha256: hash.digest("hex") });
    });
  });
}

function mediaOf(message: proto.IMessage | null | undefined) {
  return message?.imageMessage ?? message?.documentMessage ?? null;
}

/** Downloads and decrypts one image; throws a MediaDownloadError saying what to do next. */
export async function downloadImage(row: MediaRow, deps: DownloadDeps): Promise<{ bytes: Buffer; sha256: string }> {
  let message = messageFor(row);
  let reuploaded = false;
  const reuploadRequest = async (m: WAMessage): Promise<WAMessage> => {
    reuploaded = true;
    deps.log.info({ chatJid: row.chatJid, messageId: row.messageId }, "media expired on WhatsApp's servers; asking the sender's phone to upload it again");
    let updated: WAMessage;
    try {
      updated = await within(deps.reupload(m), REUPLOAD_TIMEOUT_MS, deps.signal, () => new MediaDownloadError("retry", "the re-upload request got no answer"));
    } catch (err) {
      throw classify(err, "re-upload");
    }
    const media = mediaOf(updated.message);
    deps.relocated(media?.url ?? null, media?.directPath ?? null);
    message = updated;
    return updated;
  };
  const open = () =>
    within(
      downloadMediaMessage(message, "stream", {}, { reuploadRequest, logger: deps.log }),
      IDLE_TIMEOUT_MS,
      deps.signal,
      () => new MediaDownloadError("offline", `no answer from the media server in ${IDLE_TIMEOUT_MS / 1000} s`),
      (late) => late.destroy(),
    );
  let stream: Readable;
  try {
    stream = await open();
  } catch (err) {
    const status = httpStatus(err);
    if (reuploaded || status === undefined || !EXPIRED.has(status)) throw classify(err, "download");
    await reuploadRequest(message);
    try {
      stream = await open();
    } catch (again) {
      throw classify(again, "download after re-upload");
    }
  }
  return readAll(stream, deps.maxBytes, deps.signal);
}
