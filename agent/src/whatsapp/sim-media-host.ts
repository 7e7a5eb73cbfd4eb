// The simulator's stand-in for WhatsApp's media servers (WA_TRANSPORT=simulator): an HTTP server on 127.0.0.1
// serving encrypted files by path. A simulated image is built by Baileys' own prepareWAMessageMedia — the code a
// Baileys client sends images with: a fresh media key, AES-256-CBC + HMAC (encryptedStream), WhatsApp's hashes,
// a jpegThumbnail — and its encrypted file is "uploaded" here. The agent then downloads it exactly as a live
// image, through Baileys' downloadMediaMessage fetching the message's URL and decrypting.
//
// Baileys builds `https://<host of url><directPath>` when a message has a directPath and uses `url` as it is
// otherwise. Simulated messages carry a plain-HTTP `url` and no directPath, so no certificate is needed; the
// agent's code never looks at either.
//
// Files are kept in the store (sim_media), so a restarted agent finds the ones it had not downloaded yet, on the
// same port (SIMULATOR_MEDIA_PORT). Expiry: a file can answer 410 until the "sender's phone" re-uploads it to a
// new path, which is what a simulated session's updateMediaMessage does.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { prepareWAMessageMedia, proto, type AnyMediaMessageContent, type WAMessage } from "baileys";
import type { Db } from "../store/db.ts";

export interface SimulatedImage {
  data: Buffer;
  mimetype: string;
  /** Sent as a document (with this file name) rather than as a photo. */
  fileName?: string | undefined;
  /** Expired on the server: answers 410 until re-uploaded. */
  expired?: boolean | undefined;
}

export interface SimMediaHostOptions {
  port?: number;
  /** Send half of each file, then wait this long before the rest (a test kills the agent in between). */
  stallMs?: number;
}

export async function startSimMediaHost(db: Db, opts: SimMediaHostOptions = {}) {
  const insert = db.prepare(
    "INSERT INTO sim_media (path, chat_jid, message_id, content, enc, gone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const byPath = db.prepare<[string], { path: string; chat_jid: string; message_id: string; content: Buffer; enc: Buffer; gone: number }>(
    "SELECT * FROM sim_media WHERE path = ?",
  );
  const firstOfMessage = db.prepare<[string, string], { content: Buffer }>(
    "SELECT content FROM sim_media WHERE chat_jid = ? AND message_id = ? ORDER BY rowid LIMIT 1",
  );
  const counted = db.prepare("UPDATE sim_media SET requests = requests + 1 WHERE path = ?");
  const setGone = db.prepare("UPDATE sim_media SET gone = ? WHERE path = ?");
  const list = db.prepare<[], { path: string; chat_jid: string; message_id: string; gone: number; requests: number }>(
    "SELECT path, chat_jid, message_id, gone, requests FROM sim_media ORDER BY rowid",
  );
  /** Answers to give instead of the file, per path: a test's failing server. */
  const failures = new Map<string, number[]>();
  const stalls = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const newPath = () => `/v/t62.7118-24/${randomBytes(16).toString("hex")}.enc`;
  const pathOf = (url: string | null | undefined) => {
    try {
      const u = new URL(url ?? "");
      return u.origin === origin ? u.pathname : null;
    } catch {
      return null;
    }
  };

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? "/", origin).pathname;
    const row = req.method === "GET" ? byPath.get(path) : undefined;
    if (!row) {
      res.writeHead(404).end();
      return;
    }
    counted.run(path);
    const failing = failures.get(path);
    if (failing?.length) {
      res.writeHead(failing.shift()!).end();
      return;
    }
    if (row.gone) {
      res.writeHead(410).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": row.enc.length });
    if (!opts.stallMs) {
      res.end(row.enc);
      return;
    }
    const half = Math.floor(row.enc.length / 2);
    res.write(row.enc.subarray(0, half));
    const timer = setTimeout(() => {
      stalls.delete(timer);
      res.end(row.enc.subarray(half));
    }, opts.stallMs);
    stalls.add(timer);
    res.once("close", () => {
      clearTimeout(timer);
      stalls.delete(timer);
    });
  }

  return {
    origin,
    /**
     * The media content of a message: built by Baileys and uploaded here the first time, the same content again
     * for the same chat and message id (primary and backup receive one message).
     */
    async content(chatJid: string, messageId: string, image: SimulatedImage, caption: string, context?: proto.IContextInfo): Promise<proto.IMessage> {
      const existing = firstOfMessage.get(chatJid, messageId);
      if (existing) return proto.Message.decode(existing.content);
      let enc: Buffer | undefined;
      const path = newPath();
      const media: AnyMediaMessageContent = image.fileName
        ? { document: image.data, mimetype: image.mimetype, fileName: image.fileName, ...(caption ? { caption } : {}) }
        : { image: image.data, mimetype: image.mimetype, ...(caption ? { caption } : {}) };
      const content = await prepareWAMessageMedia(media, {
        upload: async (encFilePath) => {
          enc = await readFile(encFilePath);
          // No directPath: Baileys would make it an https:// URL (see the top of this file).
          return { mediaUrl: origin + path, directPath: undefined as unknown as string };
        },
      });
      const message = content.imageMessage ?? content.documentMessage;
      if (context && message) message.contextInfo = context;
      insert.run(path, chatJid, messageId, Buffer.from(proto.Message.encode(content).finish()), enc!, image.expired ? 1 : 0, Date.now());
      return content;
    },
    /**
     * The sender's phone uploading expired media again (what a live updateMediaMessage asks WhatsApp for): the same
     * encrypted file at a new path; the old one stays gone. Returns the message pointing at the new copy.
     */
    reupload(message: WAMessage): WAMessage {
      const media = message.message?.imageMessage ?? message.message?.documentMessage;
      const path = pathOf(media?.url);
      const row = path ? byPath.get(path) : undefined;
      if (!media || !row) throw new Error("Media re-upload failed by device (NOT_FOUND)");
      const fresh = newPath();
      insert.run(fresh, row.chat_jid, row.message_id, row.content, row.enc, 0, Date.now());
      setGone.run(1, row.path);
      media.url = origin + fresh;
      media.directPath = null;
      return message;
    },
    /** The next requests for the file at this URL are answered with these statuses instead. */
    failNext(url: string, ...statuses: number[]): void {
      const path = pathOf(url);
      if (path) failures.set(path, [...(failures.get(path) ?? []), ...statuses]);
    },
    /** Every file served, with how often it was asked for. */
    files() {
      return list.all().map((r) => ({ url: origin + r.path, chatJid: r.chat_jid, messageId: r.message_id, gone: r.gone === 1, requests: r.requests }));
    },
    async stop(): Promise<void> {
      for (const t of stalls) clearTimeout(t);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export type SimMediaHost = Awaited<ReturnType<typeof startSimMediaHost>>;
