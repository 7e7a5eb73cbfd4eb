import type { ErrorCode } from "@wa-monitor/shared";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error meant for the client: it becomes `{"error":{code,message,details}}` with its status. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(status: ContentfulStatusCode, code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export { errorBody } from "@wa-monitor/shared";

/** One JSON line for the Worker's logs: what went wrong in detail, where clients only get a code. */
export function logError(msg: string, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ level: "error", msg, ...fields }));
}
