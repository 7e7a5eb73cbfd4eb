import { ERROR_STATUS, type ErrorCode, type ErrorStatus } from "@wa-monitor/shared";

/** An error meant for the client: it becomes `{"error":{code,message,details}}`, with the status its code has in
 * ERROR_STATUS, so the two can never disagree. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
  get status(): ErrorStatus {
    return ERROR_STATUS[this.code];
  }
}

export { errorBody } from "@wa-monitor/shared";

/** One JSON line for the Worker's logs: what went wrong in detail, where clients only get a code. */
export function logError(msg: string, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ level: "error", msg, ...fields }));
}
