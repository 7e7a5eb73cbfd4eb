import { BufferJSON, initAuthCreds, proto } from "baileys";
import { describe, expect, it } from "vitest";
import { storedCreds, sqlKeyStore, useSqlAuthState, wipeAuthState } from "../src/store/auth-state.ts";
import { closeStore, openStore } from "../src/store/db.ts";
import { tempDir } from "./helpers.ts";

describe("SQL auth state", () => {
  it("round-trips keys of every v7 type across a reopen, and deletes on null", async () => {
    const dir = await tempDir();
    let db = openStore(dir);
    const keys = sqlKeyStore(db, "primary");
    const preKey = { public: Buffer.from([1, 2, 3]), private: Buffer.from([4, 5, 6]) };
    await keys.set({
      "pre-key": { "1": preKey, "2": preKey },
      session: { "27821234567.0": Buffer.from("session-bytes") },
      "sender-key": { "group::user": Buffer.from("sk") },
      "app-state-sync-key": { AAAA: { keyData: Buffer.from("kd"), timestamp: 1700000000 } as proto.Message.IAppStateSyncKeyData },
      "lid-mapping": { "27821234567": "123456789012345@lid" },
      "device-list": { "27821234567": ["0", "12"] },
      tctoken: { "27821234567@s.whatsapp.net": { token: Buffer.from("tok"), timestamp: "1700000000" } },
    });
    closeStore(db);

    db = openStore(dir);
    const again = sqlKeyStore(db, "primary");
    const pre = await again.get("pre-key", ["1", "2", "3"]);
    expect(Object.keys(pre)).toEqual(["1", "2"]);
    expect(Buffer.from(pre["1"]!.public)).toEqual(preKey.public);
    expect(Buffer.from((await again.get("session", ["27821234567.0"]))["27821234567.0"]!)).toEqual(Buffer.from("session-bytes"));
    const appKey = (await again.get("app-state-sync-key", ["AAAA"]))["AAAA"]!;
    expect(appKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData); // revived as the protobuf type
    expect(Buffer.from(appKey.keyData!)).toEqual(Buffer.from("kd"));
    expect(await again.get("lid-mapping", ["27821234567"])).toEqual({ "27821234567": "123456789012345@lid" });
    expect(await again.get("device-list", ["27821234567"])).toEqual({ "27821234567": ["0", "12"] });
    expect(Buffer.from((await again.get("tctoken", ["27821234567@s.whatsapp.net"]))["27821234567@s.whatsapp.net"]!.token)).toEqual(Buffer.from("tok"));

    await again.set({ "pre-key": { "1": null } });
    expect(Object.keys(await again.get("pre-key", ["1", "2"]))).toEqual(["2"]);
    // Sessions do not see each other's keys.
    expect(await sqlKeyStore(db, "backup").get("pre-key", ["2"])).toEqual({});
    closeStore(db);
  });

  it("applies a keys.set atomically", async () => {
    const db = openStore(await tempDir());
    const keys = sqlKeyStore(db, "primary");
    // A value BufferJSON cannot encode (a BigInt) fails the whole set: nothing of it is written.
    await expect(keys.set({ "pre-key": { "1": { public: Buffer.from([1]), private: Buffer.from([2]) }, "2": { public: 1n } as never } })).rejects.toThrow();
    expect(await keys.get("pre-key", ["1", "2"])).toEqual({});
    closeStore(db);
  });

  it("persists creds, starts fresh ones for a new session, and wipes on logout", async () => {
    const dir = await tempDir();
    const db = openStore(dir);
    const a = useSqlAuthState(db, "primary");
    expect(a.registered()).toBe(false);
    a.state.creds.me = { id: "27821234567:3@s.whatsapp.net", name: "QA" };
    a.saveCreds();
    await a.state.keys.set({ "pre-key": { "9": { public: Buffer.from([9]), private: Buffer.from([9]) } } });
    const b = useSqlAuthState(db, "primary");
    expect(b.registered()).toBe(true);
    expect(b.state.creds.me?.id).toBe("27821234567:3@s.whatsapp.net");
    expect(Buffer.from(b.state.creds.noiseKey.private)).toEqual(Buffer.from(a.state.creds.noiseKey.private));
    wipeAuthState(db, "primary");
    expect(storedCreds(db, "primary")).toBeUndefined();
    expect(await sqlKeyStore(db, "primary").get("pre-key", ["9"])).toEqual({});
    closeStore(db);
  });

  it("stores creds in BufferJSON form", () => {
    const creds = initAuthCreds();
    const text = JSON.stringify(creds, BufferJSON.replacer);
    expect(JSON.parse(text, BufferJSON.reviver).noiseKey.private).toBeInstanceOf(Buffer);
  });
});
