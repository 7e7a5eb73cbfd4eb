// `npm run demo`: the whole stack with the simulated WhatsApp transport (sessions primary, backup, sender),
// the example projects, and realistic traffic entering through the same Baileys `messages.upsert` handler as
// live messages. DEMO_TRAFFIC=0 leaves the groups quiet so you can post your own with POST /simulate/messages.
import { holdInForeground } from "../tools/foreground.ts";
import { logger } from "../tools/log.ts";
import { startStack } from "../tools/stack.ts";
import { startDemoTraffic } from "../tools/demo-traffic.ts";

const say = logger("demo");

try {
  const stack = await startStack({ agent: "simulator" });
  const traffic = process.env.DEMO_TRAFFIC === "0" ? undefined : startDemoTraffic(stack.agentUrl!, logger("traffic"));
  say(`edge:  ${stack.edgeUrl}   agent: ${stack.agentUrl}/`);
  say(`feed:  curl -H "authorization: Bearer $DASHBOARD_TOKEN" ${stack.edgeUrl}/v1/drops`);
  say(`post:  curl -X POST ${stack.agentUrl}/simulate/messages -H 'content-type: application/json' \\`);
  say(`         -d '{"messages":[{"session":"primary","chatJid":"120363418298130331@g.us","senderJid":"27821234567@s.whatsapp.net","text":"DR12345678 done"}]}'`);
  say(`DASHBOARD_TOKEN is in .data/tokens.json (or your environment)${traffic ? "; simulated teams post every few seconds" : ""}`);
  holdInForeground(stack, say, () => traffic?.stop());
} catch (err) {
  say(`could not start: ${(err as Error).message}`);
  process.exit(1);
}
