// The edge URL: every request to it carries the agent's bearer token, so plain http:// is only allowed to this
// machine (loopback), where nobody on the network can read it.
import { z } from "zod";

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export const EdgeUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === "https:" || isLoopbackHost(url.hostname);
  }, "plain http:// would send the agent token in clear: use https://, or http:// only to a loopback address (127.0.0.0/8, ::1, localhost)");
