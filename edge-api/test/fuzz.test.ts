// Whatever a client sends, the API answers with a JSON status below 500 and bad requests change nothing.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { sqlClient } from "../../tools/test/db.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, edgeHarness, PROJECTS, submission, type Edge } from "./harness.ts";

let edge: Edge;
beforeAll(async () => {
  edge = await edgeHarness();
  await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS });
});

async function fingerprint() {
  const c = await sqlClient(edge.databaseUrl);
  try {
    const { rows } = await c.query(
      `SELECT (SELECT count(*) FROM drops)::int AS drops, (SELECT count(*) FROM submissions)::int AS subs,
              (SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM projects p) AS projects`,
    );
    return rows[0];
  } finally {
    await c.end();
  }
}

// Submissions with every field possibly replaced by junk of another type.
const junk = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.object(), fc.array(fc.anything()));
const mangledSubmission = fc.record({
  messageId: fc.oneof(fc.string({ maxLength: 200 }), junk),
  chatJid: fc.oneof(fc.constant(PROJECTS[0]!.groupJid), fc.string(), junk),
  dropNumber: fc.oneof(fc.stringMatching(/^DR\d{8}$/), fc.string(), junk),
  session: fc.oneof(fc.constant("primary"), fc.string(), junk),
  senderJid: fc.oneof(fc.string(), junk),
  text: fc.oneof(fc.string(), junk),
  sentAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), junk),
}, { requiredKeys: [] });

describe("fuzzing the API", () => {
  it("never answers 5xx to ingest bodies, and invalid ones change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.record({ submissions: fc.array(mangledSubmission, { maxLength: 5 }) })), async (body) => {
        const before = await fingerprint();
        const r = await edge.call("POST", "/v1/agent/drops", { token: AGENT_TOKEN, json: body });
        expect(r.status).toBeLessThan(500);
        expect(r.body).toBeTypeOf("object");
        if (r.status !== 200) {
          expect(r.body.error.code).toBeTypeOf("string");
          expect(await fingerprint()).toEqual(before);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("never answers 5xx to feed and drop queries", async () => {
    await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ dropNumber: "DR80808080" })] });
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom("project", "status", "date", "limit", "cursor", "from", "to", "x"), fc.string({ maxLength: 40 })),
        fc.string({ maxLength: 50 }),
        async (query, dropPath) => {
          const qs = new URLSearchParams(query).toString();
          for (const p of [`/v1/drops?${qs}`, `/v1/stats/daily?${qs}`, `/v1/drops/${encodeURIComponent(dropPath)}`]) {
            const r = await edge.call("GET", p, { token: DASHBOARD_TOKEN });
            expect(r.status, `${p} -> ${JSON.stringify(r.body)}`).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("never answers 5xx to review, heartbeat, ack and project bodies", async () => {
    await edge.agent("POST", "/v1/agent/drops", { submissions: [submission({ dropNumber: "DR81818181" })] });
    const stepKey = fc.constantFrom("house_photo", "ont_barcode", "green_lights", "roof", "__proto__", "constructor");
    const bodies = fc.oneof(
      fc.anything(),
      fc.record({ steps: fc.dictionary(stepKey, fc.oneof(fc.boolean(), junk)), status: fc.oneof(fc.constantFrom("complete", "incomplete"), junk), comment: fc.oneof(fc.string(), junk), reviewer: fc.oneof(fc.string(), junk) }, { requiredKeys: [] }),
      fc.record({ agent: fc.oneof(fc.string(), junk), sessions: fc.array(fc.record({ name: fc.string(), role: fc.string(), state: fc.string(), phone: fc.oneof(fc.string(), fc.constant(null)), lastEventAt: fc.oneof(fc.string(), fc.constant(null)) }), { maxLength: 3 }) }, { requiredKeys: [] }),
      fc.record({ status: fc.oneof(fc.constantFrom("sent", "failed"), junk), waMessageId: fc.oneof(fc.string(), junk), error: fc.oneof(fc.string(), junk) }, { requiredKeys: [] }),
      fc.record({ projects: fc.array(fc.record({ name: fc.string(), groupJid: fc.oneof(fc.constant("120363000000000077@g.us"), fc.string()), enabled: fc.oneof(fc.boolean(), junk) }), { maxLength: 3 }) }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, fc.string({ maxLength: 20 }), async (body, id) => {
        const targets: [string, string, string][] = [
          ["PATCH", "/v1/drops/DR81818181/review", DASHBOARD_TOKEN],
          ["POST", "/v1/agent/heartbeat", AGENT_TOKEN],
          ["POST", `/v1/agent/feedback/${encodeURIComponent(id)}/ack`, AGENT_TOKEN],
          ["PUT", "/v1/agent/projects", AGENT_TOKEN],
        ];
        for (const [method, path, token] of targets) {
          const r = await edge.call(method, path, { token, json: body });
          expect(r.status, `${method} ${path} ${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`).toBeLessThan(500);
        }
      }),
      { numRuns: 40 },
    );
  });
});
