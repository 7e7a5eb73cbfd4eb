// The edge API as the agent sees it; request and response shapes are the shared contract.
import {
  AckResponse,
  DropsIngestResponse,
  ErrorBody,
  OutboxResponse,
  type AckRequest,
  type DropSubmission,
  type HeartbeatRequest,
  type OutboxMessage,
  type ProjectInput,
} from "@wa-monitor/shared";

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
  claimFeedback(limit: number): Promise<OutboxMessage[]>;
  ackFeedback(id: string, ack: AckRequest): Promise<void>;
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

export function edgeClient(baseUrl: string, token: string, opts: EdgeClientOptions = {}): EdgeClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const request = requestSignal(timeoutMs, opts.signal);
    let res: Response;
    let text: string;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? null : JSON.stringify(body),
        signal: request.signal,
      });
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
      const json = await call("POST", "/v1/agent/drops", { submissions });
      const parsed = DropsIngestResponse.safeParse(json);
      if (!parsed.success || parsed.data.results.length !== submissions.length) {
        throw new EdgeError(502, undefined, "edge answered 2xx without a result per submission");
      }
      return parsed.data;
    },
    async putProjects(projects) {
      await call("PUT", "/v1/agent/projects", { projects });
    },
    async heartbeat(body) {
      await call("POST", "/v1/agent/heartbeat", body);
    },
    async claimFeedback(limit) {
      const parsed = OutboxResponse.safeParse(await call("GET", `/v1/agent/outbox?limit=${limit}`));
      if (!parsed.success) throw new EdgeError(502, undefined, "edge answered the outbox poll in an unknown shape");
      return parsed.data.messages;
    },
    async ackFeedback(id, ack) {
      const parsed = AckResponse.safeParse(await call("POST", `/v1/agent/outbox/${encodeURIComponent(id)}/ack`, ack));
      if (!parsed.success) throw new EdgeError(502, undefined, "edge answered the ack in an unknown shape");
    },
  };
}
