import pino, { type Logger } from "pino";

/** JSON logs; anything that looks like a credential is redacted before it is written. */
export function createLogger(level: string, name = "agent"): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ["token", "*.token", "authorization", "*.authorization", "headers.authorization", "AGENT_TOKEN", "*.AGENT_TOKEN", "creds", "*.creds"],
      censor: "[redacted]",
    },
  });
}
