// The edge API as the agent sees it. Paths, parameters and bodies come from the edge's own route definitions
// through Hono's typed client (the edge's app is imported as a type only: no edge code reaches the agent at run
// time); answers are checked against the shared contract before the agent acts on them.
import {
  DropsIngestResponse,
  ErrorBody,
  FeedbackAckResponse,
  FeedbackHandOutResponse,
  PhotoBlobResponse,
  PhotosIngestResponse,
  type DropSubmission,
  type FeedbackAckRequest,
  type FeedbackHandOut,
  type HeartbeatRequest,
  type PhotoMimetype,
  type PhotoRecord,
  type ProjectInput,
} from "@wa-monitor/shared";
import { hc, type ClientResponse } from "hono/client";
import type { AppType } from "../../../edge-api/src/app.ts";

export class EdgeError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  /** Worth retrying as is: the edge or the network is having a moment, not our request. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export interface EdgeClient {
  postDrops(submissions: DropSubmission[]): Promise<DropsIngestResponse>;
  putProjects(projects: ProjectInput[]): Promise<void>;
  heartbeat(body: HeartbeatRequest): Promise<void>;
  claimFeedback(limit: number): Promise<FeedbackHandOut[]>;
  ackFeedback(id: string, ack: FeedbackAckRequest): Promise<void>;
  /** Whether the edge has a photo's bytes. */
  hasPhotoBlob(sha256: string): Promise<boolean>;
  /** Uploads a photo's bytes (the edge verifies their hash); idempotent. */
  putPhotoBlob(sha256: string, bytes: Buffer, mimetype: PhotoMimetype): Promise<PhotoBlobResponse>;
  postPhotos(photos: PhotoRecord[]): Promise<PhotosIngestResponse>;
}

export interface EdgeClientOptions {
  /** Per request, reading the answer included. */
  timeoutMs?: number;
  /** Aborts every request in flight and refuses new ones: the agent's shutdown deadline. */
  signal?: AbortSignal;
}

/**
 * One request's signal: aborted by its own timeout or by the agent's shutdown, whichever comes first. A plain
 * controller with a timer and a listener that are both removed when the request is over, so nothing is left on
 * the long-lived shutdown signal and nothing depends on when the garbage collector runs.
 */
function requestSignal(timeoutMs: number, shutdown: AbortSignal | undefined) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const onShutdown = () => ctrl.abort(new Error("edge request abandoned: the agent is shutting down"));
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener("abort", onShutdown, { once: true });
  return {
    signal: ctrl.signal,
    done() {
      clearTimeout(timer);
      shutdown?.removeEventListener("abort", onShutdown);
    },
  };
}

/** What `call` reads of an answer: Hono's typed client's, or fetch's for the raw-bytes routes. */
type Answer = Pick<Response, "ok" | "status" | "text"> | ClientResponse<unknown>;

/** A photo's bytes go at this rate at worst before their PUT is taken for hung (plus the usual timeout). */
const SLOWEST_UPLOAD_BYTES_PER_S = 64 * 1024;

export function edgeClient(baseUrl: string, token: string, opts: EdgeClientOptions = {}): EdgeClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  // The origin alone: the routes' paths are absolute.
  const authorization = `Bearer ${token}`;
  const api = hc<AppType>(new URL(baseUrl).origin, { headers: { authorization } });
  const blobUrl = (sha256: string) => api.v1.agent.photos.blobs[":sha256"].$url({ param: { sha256 } });

  /** One request, made by `send` with the signal it is given; answers its JSON, or throws an EdgeError. */
  async function call(send: (init: { signal: AbortSignal }) => Promise<Answer>, timeout = timeoutMs): Promise<unknown> {
    const request = requestSignal(timeout, opts.signal);
    let res: Answer;
    let text: string;
    try {
      res = await send({ signal: request.signal });
      // The body can hang as well as the headers; the same signal covers it.
      text = await res.text();
    } catch (err) {
      throw opts.signal?.aborted
        ? new EdgeError(0, undefined, "edge request abandoned: the agent is shutting down")
        : new EdgeError(0, undefined, `edge unreachable: ${(err as Error).message}`);
    } finally {
      request.done();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = ErrorBody.safeParse(json);
      const code = err.success ? err.data.error.code : undefined;
      const msg = err.success ? err.data.error.message : text.slice(0, 200);
      throw new EdgeError(res.status, code, `edge answered ${res.status}${code ? ` ${code}` : ""}: ${msg}`);
    }
    return json;
  }

  return {
    async postDrops(submissions) {
      const json = await call((init) => api.v1.agent.drops.$post({ json: { submissions } }, { init }));
      const parsed = DropsIngestResponse.safeParse(json);
      if (!parsed.success || parsed.data.results.length !== submissions.length) {
        throw new EdgeError(502, undefined, "edge answered 2xx without a result per submission");
      }
      return parsed.data;
    },
    async putProjects(projects) {
      await call((init) => api.v1.agent.projects.$put({ json: { projects } }, { init }));
    },
    async heartbeat(body) {
      await call((init) => api.v1.agent.heartbeat.$post({ json: body }, { init }));
    },
    async claimFeedback(limit) {
      const json = await call((init) => api.v1.agent.feedback.$get({ query: { limit: String(limit) } }, { init }));
      const parsed = FeedbackHandOutResponse.safeParse(json);
      if (!parsed.success) throw new EdgeError(502, undefined, "edge answered the feedback poll in an unknown shape");
      return parsed.data.messages;
    },
    async hasPhotoBlob(sha256) {
      try {
        // HEAD: the edge's GET answer without its body.
        await call((init) => fetch(blobUrl(sha256), { method: "HEAD", headers: { authorization }, ...init }));
        return true;
      } catch (err) {
        if (err instanceof EdgeError && err.status === 404) return false;
        throw err;
      }
    },
    async putPhotoBlob(sha256, bytes, mimetype) {
      const json = await call(
        (init) => fetch(blobUrl(sha256), { method: "PUT", headers: { authorization, "content-type": mimetype }, body: new Uint8Array(bytes), ...init }),
        timeoutMs + Math.ceil((bytes.length / SLOWEST_UPLOAD_BYTES_PER_S) * 1000),
      );
      const parsed = PhotoBlobResponse.safeParse(json);
      if (!parsed.success || parsed.data.sha256 !== sha256) throw new EdgeError(502, undefined, "edge answered the photo upload in an unknown shape");
      return parsed.data;
    },
    async postPhotos(photos) {
      const json = await call((init) => api.v1.agent.photos.$post({ json: { photos } }, { init }));
      const parsed = PhotosIngestResponse.safeParse(json);
      if (!parsed.success || parsed.data.results.length !== photos.length) {
        throw new EdgeError(502, undefined, "edge answered 2xx without a result per photo record");
      }
      return parsed.data;
    },
    async ackFeedback(id, ack) {
      const json = await call((init) => api.v1.agent.feedback[":id"].ack.$post({ param: { id: encodeURIComponent(id) }, json: ack }, { init }));
      const parsed = FeedbackAckResponse.safeParse(json);
      if (!parsed.success) throw new EdgeError(502, undefined, "edge answered the ack in an unknown shape");
    },
  };
}
