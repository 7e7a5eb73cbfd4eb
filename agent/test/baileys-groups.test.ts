// Feedback to a group is encrypted for the members Baileys gets from our `cachedGroupMetadata`; it asks WhatsApp
// itself only when the cache answers nothing. Real Baileys sockets on a local WebSocket server, which decodes
// what the socket sends (unencrypted before the handshake): a usync query names the members a message would be
// encrypted for, a w:g2 query means Baileys asked WhatsApp for the group.
import { getBinaryNodeChild, getBinaryNodeChildren, WAMessageAddressingMode, type BinaryNode, type WASocket } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.ts";
import { eventually, LAWLEY } from "./helpers.ts";
import { fakeWhatsApp, liveAgent, type FakeWhatsApp } from "./live-whatsapp.ts";

let agent: Agent | undefined;
let wa: FakeWhatsApp | undefined;

afterEach(async () => {
  await agent?.stop();
  await wa?.close();
  agent = undefined;
  wa = undefined;
});

const member = (n: number) => `2782100000${n}@s.whatsapp.net`;

/** Member lists of the device queries the socket sent, i.e. who each message was to be encrypted for. */
const encryptedFor = (nodes: BinaryNode[]) =>
  nodes
    .filter((n) => n.tag === "iq" && n.attrs.xmlns === "usync")
    .map((n) => getBinaryNodeChildren(getBinaryNodeChild(getBinaryNodeChild(n, "usync"), "list"), "user").map((u) => u.attrs.jid).sort());
const groupFetches = (nodes: BinaryNode[], jid: string) =>
  nodes.filter((n) => n.tag === "iq" && n.attrs.xmlns === "w:g2" && n.attrs.to === jid && getBinaryNodeChild(n, "query")).length;

/** An open, paired session whose cache knows the group with members 1 and 2. WhatsApp never answers queries. */
async function sessionInGroup(opts: Parameters<typeof fakeWhatsApp>[1] = {}) {
  wa = await fakeWhatsApp("silent", opts);
  const live = await liveAgent(wa.url, { paired: ["primary"], connectTimeoutMs: 60_000, defaultQueryTimeoutMs: 500 });
  agent = live.agent;
  const sock = (await eventually(async () => live.sockets[0], (s) => !!s)) as WASocket;
  await eventually(async () => sock.ws.isOpen, (open) => open);
  sock.ev.emit("connection.update", { connection: "open" });
  sock.ev.emit("groups.upsert", [
    { id: LAWLEY, subject: "Lawley", owner: undefined, addressingMode: WAMessageAddressingMode.PN, participants: [{ id: member(1) }, { id: member(2) }] },
  ]);
  const sent = () => wa!.sent().map((s) => s.node);
  const send = () => agent!.sessions.get("primary")!.send(LAWLEY, "DR12345678: photos approved").then(() => "sent", (e: unknown) => String((e as Error)?.message ?? e));
  return { sock, sockets: live.sockets, sent, send };
}

describe("group metadata for sends", () => {
  it("asks WhatsApp for the groups the number is in when the session opens", async () => {
    const { sent } = await sessionInGroup();
    await eventually(async () => sent().filter((n) => n.attrs.xmlns === "w:g2" && getBinaryNodeChild(n, "participating")).length, (n) => n === 1);
  });

  it("follows member changes: a send is encrypted for the members now in the group", async () => {
    const { sock, sent, send } = await sessionInGroup();
    sock.ev.emit("group-participants.update", { id: LAWLEY, author: member(1), action: "remove", participants: [{ id: member(2) }] });
    sock.ev.emit("group-participants.update", { id: LAWLEY, author: member(1), action: "add", participants: [{ id: member(3) }] });
    await send();
    expect(encryptedFor(sent())).toEqual([[member(1), member(3)]]);
  });

  it("after a failed send, the retry fetches the group instead of using the cached members", async () => {
    // WhatsApp drops the connection while the message is on its way.
    const { sent, send, sockets } = await sessionInGroup({ hangUpOn: (n) => n.attrs.xmlns === "usync" });
    expect(await send()).toBe("sending failed (1005)"); // 1005: the WebSocket closed
    expect(encryptedFor(sent())).toEqual([[member(1), member(2)]]);
    const again = (await eventually(async () => sockets[1], (s) => !!s)) as WASocket;
    await eventually(async () => again.ws.isOpen, (open) => open);
    again.ev.emit("connection.update", { connection: "open" });
    const onSecondConnection = () => wa!.sent().filter((s) => s.connection === 2).map((s) => s.node);
    expect(await send()).not.toBe("sent"); // WhatsApp never answers the group query here
    expect(groupFetches(onSecondConnection(), LAWLEY)).toBe(1);
    expect(encryptedFor(sent())).toHaveLength(1); // nothing encrypted again for the cached list
  });
});
