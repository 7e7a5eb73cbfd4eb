// Local stand-in for Neon's WebSocket endpoint: pipes bytes between the Neon serverless driver's WebSocket
// and a TCP socket to a real Postgres, so the Worker runs its production driver code against local Postgres.
// Only the configured Postgres address is reachable through it.
import { createServer, type Server } from "node:http";
import net from "node:net";
import { WebSocketServer, type RawData } from "ws";

export interface NeonProxy {
  port: number;
  /** "127.0.0.1:PORT" — the value of the Worker's NEON_LOCAL_PROXY. */
  address: string;
  /** Postgres connections opened through the proxy so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startNeonProxy(opts: {
  target: { host: string; port: number };
  port?: number;
  log?: (line: string) => void;
  /** Sees every chunk piped, numbered by connection: lets tests check what the driver sends before any reply. */
  observe?: (connection: number, from: "client" | "server", bytes: Buffer) => void;
}): Promise<NeonProxy> {
  const log = opts.log ?? (() => {});
  const http: Server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket only\n");
  });
  const wss = new WebSocketServer({ server: http, path: "/v1" });
  const sockets = new Set<net.Socket>();
  let opened = 0;

  wss.on("connection", (ws, req) => {
    // The driver asks for ?address=host:port; we always dial our one Postgres, whatever host the URL named,
    // but refuse a different port so a misconfigured URL fails loudly instead of reaching the wrong server.
    const address = new URL(req.url ?? "/", "http://x").searchParams.get("address") ?? "";
    const port = Number(address.split(":").pop());
    if (port !== opts.target.port) {
      log(`refused connection for ${address}: only port ${opts.target.port} is proxied`);
      ws.close(1008, "address not allowed");
      return;
    }
    const tcp = net.connect(opts.target.port, opts.target.host);
    const id = ++opened;
    sockets.add(tcp);
    tcp.setNoDelay(true);
    const pending: Buffer[] = [];
    let connected = false;
    tcp.on("connect", () => {
      connected = true;
      for (const b of pending) tcp.write(b);
      pending.length = 0;
    });
    ws.on("message", (data: RawData) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      opts.observe?.(id, "client", buf);
      if (connected) tcp.write(buf);
      else pending.push(buf);
    });
    tcp.on("data", (chunk) => {
      opts.observe?.(id, "server", chunk);
      if (ws.readyState === ws.OPEN) ws.send(chunk);
    });
    const shut = () => {
      sockets.delete(tcp);
      tcp.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };
    tcp.on("error", (e) => {
      log(`postgres socket error: ${e.message}`);
      shut();
    });
    tcp.on("close", shut);
    ws.on("close", shut);
    ws.on("error", shut);
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    connections: () => opened,
    close: async () => {
      for (const s of sockets) s.destroy();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
