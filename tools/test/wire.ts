// Reads the Postgres protocol out of what a Neon proxy piped (its `observe` hook): which messages the driver sent
// before the server said anything, and what the server asked for first. That is how the tests see whether a
// connection was pipelined and how it authenticated, on the real wire rather than from the driver's settings.

export interface Chunk {
  from: "client" | "server";
  bytes: Buffer;
}

/** Collects the proxy's chunks per connection, in the order they crossed it. */
export function wireRecorder() {
  const connections = new Map<number, Chunk[]>();
  return {
    observe: (id: number, from: "client" | "server", bytes: Buffer) => {
      const list = connections.get(id) ?? [];
      list.push({ from, bytes: Buffer.from(bytes) });
      connections.set(id, list);
    },
    connections: () => [...connections.values()],
  };
}

/** Message types of a byte stream of typed messages (a type byte and an int32 length each). */
function typedMessages(buf: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 5 <= buf.length; at += 1 + buf.readInt32BE(at + 1)) out.push(String.fromCharCode(buf[at]!));
  return out;
}

/** Message types of client bytes: "startup" for the untyped first message, then one type letter per message. */
function clientMessages(buf: Buffer): string[] {
  if (buf.length < 8) return [];
  return ["startup", ...typedMessages(buf.subarray(buf.readInt32BE(0)))];
}

/**
 * What the client sent before the server's first byte: "startup", then the type letter of each message ("p" a
 * password, "Q" a simple query, "P"/"B"/"E"/"S" an extended one).
 */
export function sentBeforeFirstReply(chunks: Chunk[]): string[] {
  const early: Buffer[] = [];
  for (const c of chunks) {
    if (c.from === "server") break;
    early.push(c.bytes);
  }
  return clientMessages(Buffer.concat(early));
}

/** Everything the client sent on the connection, as message types. */
export function sentByClient(chunks: Chunk[]): string[] {
  return clientMessages(Buffer.concat(chunks.filter((c) => c.from === "client").map((c) => c.bytes)));
}

const AUTH_REQUESTS: Record<number, string> = { 0: "ok", 3: "cleartext password", 5: "md5", 10: "SASL" };

/** The server's first message; for an authentication request ('R'), what it asked for. */
export function firstReply(chunks: Chunk[]): { type: string; auth?: string } {
  const buf = chunks.find((c) => c.from === "server")?.bytes;
  if (!buf) return { type: "(none)" };
  const type = String.fromCharCode(buf[0]!);
  if (type !== "R") return { type };
  const code = buf.readInt32BE(5);
  return { type, auth: AUTH_REQUESTS[code] ?? String(code) };
}
