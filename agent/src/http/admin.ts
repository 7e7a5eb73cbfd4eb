// The agent's admin server (Hono on Node, 127.0.0.1 by default): health, QR codes for pairing, Prometheus
// metrics, and — with the simulator transport only — the simulated-WhatsApp entry points.
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { html, raw } from "hono/html";
import QRCode from "qrcode";
import { errorBody } from "@wa-monitor/shared";
import { z } from "zod";
import type { Agent } from "../agent.ts";

const SimulatedImage = z.object({
  // Room for an image over the 10 MiB limit, to simulate one.
  data: z.base64().min(1).max(16 * 1024 * 1024),
  mimetype: z.string().regex(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i, "must be a MIME type such as image/jpeg"),
  /** Sent as a document with this file name instead of as a photo. */
  fileName: z.string().min(1).max(255).optional(),
  /** Expired on WhatsApp's servers: downloadable only after the sender's phone re-uploads it. */
  expired: z.boolean().optional(),
});

const SimulateRequest = z.object({
  messages: z
    .array(
      z
        .object({
          session: z.string().min(1),
          chatJid: z.string().regex(/@g\.us$/, "must be a group JID"),
          senderJid: z.string().regex(/^[^@\s]+@(s\.whatsapp\.net|lid|c\.us)$/, "must be a user JID"),
          senderName: z.string().max(200).optional(),
          /** The message, or an image's caption. */
          text: z.string().max(65536).optional(),
          id: z.string().min(1).max(128).optional(),
          timestamp: z.number().int().min(946_684_800).max(4_102_444_799).optional(), // seconds, years 2000–2099
          editOf: z.string().min(1).max(128).optional(),
          quotedId: z.string().min(1).max(128).optional(),
          image: SimulatedImage.optional(),
        })
        .refine((m) => m.text !== undefined || m.image, { path: ["text"], message: "required (only an image may go without)" })
        .refine((m) => !(m.image && m.editOf), { path: ["image"], message: "an edit carries no image" }),
    )
    .min(1)
    .max(1000),
});


const validate = <S extends z.ZodType>(schema: S) =>
  zValidator("json", schema, (result, c) => {
    if (!result.success) return c.json(errorBody("invalid_request", "invalid body", result.error.issues), 400);
  });

export function createAdminApp(agent: Agent) {
  const app = new Hono();

  app.get("/health", (c) => c.json(agent.health()));

  app.get("/metrics", async (c) => {
    agent.refreshGauges();
    return c.text(await agent.metrics.registry.metrics(), 200, { "content-type": agent.metrics.registry.contentType });
  });

  app.get("/sessions/:name/qr", async (c) => {
    const s = agent.sessions.get(c.req.param("name"));
    if (!s) return c.json(errorBody("not_found", "no such session"), 404);
    const qr = s.status().qr;
    if (!qr) return c.json(errorBody("not_found", `session ${s.config.name} has no QR code (state ${s.status().state})`), 404);
    const svg = await QRCode.toString(qr, { type: "svg", margin: 2, width: 280 });
    return c.body(svg, 200, { "content-type": "image/svg+xml", "cache-control": "no-store" });
  });

  app.get("/", (c) => {
    const h = agent.health();
    const rows = [...agent.sessions.values()].map((s) => {
      const st = s.status();
      const pairing = st.pairingCode
        ? html`<p>Pairing code: <code class="code">${st.pairingCode}</code></p>`
        : st.qr
          ? html`<img alt="QR code for ${st.name}" src="/sessions/${st.name}/qr?t=${Date.now()}" width="280" height="280">`
          : "";
      return html`<tr><td>${st.name}</td><td>${st.role}</td><td class="${st.state}">${st.state}</td><td>${st.phone ?? "–"}</td>
        <td>${st.lastEventAt ?? "–"}</td><td>${st.detail ?? ""}${pairing}</td></tr>`;
    });
    return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>wa-monitor agent</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 2rem; color: #1d2433 }
  table { border-collapse: collapse } td, th { padding: .4rem .8rem; border-bottom: 1px solid #dde; text-align: left; vertical-align: top }
  .open { color: #167a3a; font-weight: 600 } .qr, .connecting { color: #a86200 } .logged_out, .failed, .stale, .closed { color: #b3261e; font-weight: 600 }
  .code { font-size: 1.6rem; letter-spacing: .2rem }
</style></head>
<body>
<h1>wa-monitor agent <small>(${h.status})</small></h1>
<table><thead><tr><th>Session</th><th>Role</th><th>State</th><th>Phone</th><th>Last event</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>
<p>Outbox: ${h.outbox.pending} pending${h.outbox.oldestPendingAt ? raw(` (oldest ${h.outbox.oldestPendingAt})`) : ""}${
  h.outbox.rejected ? html`, <strong class="failed">${h.outbox.rejected} rejected</strong> (see <code>agent requeue-rejected</code>)` : ""}</p>
<p>Images: ${h.media.downloaded} downloaded, ${h.media.pending} waiting${h.media.failed ? html`, <strong class="failed">${h.media.failed} failed</strong>` : ""}${
  h.media.tooLarge || h.media.unsupported ? ` (${h.media.tooLarge} too large, ${h.media.unsupported} of other types: recorded without bytes)` : ""}</p>
<p>Image uploads to the edge: ${h.uploads.uploaded} uploaded, ${h.uploads.pending} waiting${
  h.uploads.failing ? html`, <strong class="failed">${h.uploads.failing} the edge could not take yet</strong>` : ""}${h.uploads.offline ? html` <strong class="failed">(edge unreachable)</strong>` : ""}</p>
</body></html>`);
  });

  if (agent.simulator) {
    const sim = agent.simulator;
    app.post("/simulate/messages", validate(SimulateRequest), async (c) => {
      const { messages } = c.req.valid("json");
      const unknown = [...new Set(messages.map((m) => m.session))].filter((s) => !sim.sessions.has(s));
      if (unknown.length) return c.json(errorBody("invalid_request", `unknown or stopped session: ${unknown.join(", ")}`), 400);
      const accepted: { session: string; id: string }[] = [];
      // One upsert per session, in the order given, as one socket would deliver them.
      for (const name of new Set(messages.map((m) => m.session))) {
        const batch = messages
          .filter((m) => m.session === name)
          .map(({ image, text, ...m }) => ({ ...m, text: text ?? "", image: image && { ...image, data: Buffer.from(image.data, "base64") } }));
        const built = await sim.sessions.get(name)!.inject(batch);
        for (const b of built) accepted.push({ session: name, id: b.key.id! });
      }
      return c.json({ accepted });
    });
    app.get("/simulate/media", (c) => c.json({ files: sim.media?.files() ?? [] }));
    app.get("/simulate/sent", (c) => {
      const after = Number(c.req.query("after") ?? 0);
      return c.json({ messages: sim.sent(Number.isFinite(after) ? after : 0) });
    });
  }

  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof SyntaxError || (err as { status?: number }).status === 400) {
      return c.json(errorBody("invalid_json", "malformed JSON body"), 400);
    }
    agent.log.error({ err }, "admin request failed");
    return c.json(errorBody("internal", "internal error"), 500);
  });
  return app;
}
