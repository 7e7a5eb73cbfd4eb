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
    mediaUploads: new Counter({
      name: "wa_media_uploads_total",
      help: "Image records sent to the edge, by its answer (new, updated, duplicate, unknown_group, missing_bytes) or refused",
      labelNames: ["result"],
      registers: [registry],
    }),
    mediaBlobUploads: new Counter({
      name: "wa_media_blob_uploads_total",
      help: "Images' bytes brought to the edge: stored by our upload, or present there already",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    mediaUploadState: new Gauge({
      name: "wa_media_upload",
      help: "Image records by upload state: pending (waiting for the edge), uploaded, failing (waiting after the edge could not take them)",
      labelNames: ["state"],
      registers: [registry],
    }),
    sessionState: new Gauge({ name: "wa_session_state", help: "1 for the state each session is in", labelNames: ["session", "state"], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
