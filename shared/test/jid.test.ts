import { describe, expect, it } from "vitest";
import { jidUser, normaliseJid, phoneFromJid } from "../src/index.ts";

describe("JIDs", () => {
  it("drops the device part and nothing else", () => {
    expect(normaliseJid("27821234567:12@s.whatsapp.net")).toBe("27821234567@s.whatsapp.net");
    expect(normaliseJid("104857600012345:3@lid")).toBe("104857600012345@lid");
    expect(normaliseJid("27821234567@s.whatsapp.net")).toBe("27821234567@s.whatsapp.net");
    expect(normaliseJid("120363418298130331@g.us")).toBe("120363418298130331@g.us");
  });

  it("reads the user part of every form, the same with or without a device", () => {
    expect(jidUser("27821234567@s.whatsapp.net")).toBe("27821234567");
    expect(jidUser("27821234567:12@s.whatsapp.net")).toBe("27821234567");
    expect(jidUser("104857600012345@lid")).toBe("104857600012345");
    expect(jidUser("104857600012345:7@lid")).toBe("104857600012345");
    for (const notAJid of [null, undefined, "", "27821234567", "thabo:x@lid"]) expect(jidUser(notAJid)).toBeNull();
  });

  it("gives a phone number only for a phone number's JID", () => {
    expect(phoneFromJid("27821234567@s.whatsapp.net")).toBe("+27821234567");
    expect(phoneFromJid("27821234567:12@s.whatsapp.net")).toBe("+27821234567");
    expect(phoneFromJid("27821234567@c.us")).toBe("+27821234567");
    for (const other of ["104857600012345@lid", "120363418298130331@g.us", "1234@s.whatsapp.net", "x27821234567@s.whatsapp.net", null]) {
      expect(phoneFromJid(other)).toBeNull();
    }
  });
});
