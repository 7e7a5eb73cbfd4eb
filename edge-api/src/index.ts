import { createApp } from "./app.ts";
import { scheduled } from "./scheduled.ts";

const app = createApp();

// The module-worker shape workerd expects: fetch for HTTP, scheduled for the cron trigger.
export default {
  fetch: app.fetch,
  scheduled,
};
