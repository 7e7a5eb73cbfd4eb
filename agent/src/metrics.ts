// Prometheus metrics for /metrics.
import { Counter, Gauge, Registry } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    messagesStored: new Counter({ name: "wa_messages_stored_total", help: "Monitored messages stored", labelNames: ["session"], registers: [registry] }),
    dropsDetected: new Counter({ name: "wa_drops_detected_total", help: "Drop submissions queued for the edge", labelNames: ["session"], registers: [registry] }),
    delivered: new Counter({ name: "wa_drops_delivered_total", help: "Outbox rows delivered, by edge result", labelNames: ["result"], registers: [registry] }),
    deliveryFailures: new Counter({ name: "wa_delivery_failures_total", help: "Failed delivery attempts to the edge", registers: [registry] }),
    outboxPending: new Gauge({ name: "wa_outbox_pending", help: "Outbox rows not yet delivered", registers: [registry] }),
    outboxRejected: new Gauge({
      name: "wa_outbox_rejected",
      help: "Outbox rows the edge or the contract refused; `agent requeue-rejected` puts them back",
      registers: [registry],
    }),
    mediaRecorded: new Counter({ name: "wa_media_recorded_total", help: "Images recorded from monitored groups", labelNames: ["session"], registers: [registry] }),
    mediaDownloads: new Counter({
      name: "wa_media_downloads_total",
      help: "Image download attempts, by outcome (downloaded, too_large, unsupported, retry, failed, offline)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    media: new Gauge({ name: "wa_media", help: "Image records by state", labelNames: ["state"], registers: [registry] }),
    mediaBlobBytes: new Gauge({ name: "wa_media_blob_bytes", help: "Bytes of images kept in the store", registers: [registry] }),
    sessionState: new Gauge({ name: "wa_session_state", help: "1 for the state each session is in", labelNames: ["session", "state"], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
