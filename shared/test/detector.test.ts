import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDropDetector, detectDropNumbers } from "../src/detector.ts";

describe("detectDropNumbers", () => {
  const cases: [string, string[]][] = [
    ["DR12345678", ["DR12345678"]],
    ["DR12345678 done ✅ all pics sent", ["DR12345678"]],
    ["Good day team, dr12345678 installed at 14 Mahlangu St", ["DR12345678"]],
    ["Dr 12345678 complete", ["DR12345678"]],
    ["DR-12345678", ["DR12345678"]],
    ["Drops for today:\nDR10000001\nDR10000002\nDR10000003", ["DR10000001", "DR10000002", "DR10000003"]],
    ["DR12345678, DR12345678 (again)", ["DR12345678"]],
    ["(DR12345678)", ["DR12345678"]],
    ["#DR12345678.", ["DR12345678"]],
    ["*DR12345678*", ["DR12345678"]],
  ];
  for (const [text, expected] of cases) {
    it(`finds ${expected.join(", ")} in ${JSON.stringify(text)}`, () => {
      expect(detectDropNumbers(text)).toEqual(expected);
    });
  }

  const nearMisses = [
    "DR1234567", // 7 digits
    "DR123456789", // 9 digits
    "ADR12345678", // glued to a word
    "DR12345678X",
    "DR  12345678", // two spaces
    "D R12345678",
    "DX12345678",
    "call 0821234567",
    "PON DR 1234 5678",
    "",
  ];
  for (const text of nearMisses) {
    it(`finds nothing in ${JSON.stringify(text)}`, () => {
      expect(detectDropNumbers(text)).toEqual([]);
    });
  }

  it("normalises any case and separator to DR + 8 digits", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("DR", "dr", "Dr", "dR"),
        fc.constantFrom("", " ", "-"),
        fc.stringMatching(/^\d{8}$/),
        fc.string({ maxLength: 20 }).map((s) => s.replace(/[\w-]/g, "")),
        (prefix, sep, digits, noise) => {
          expect(detectDropNumbers(`${noise} ${prefix}${sep}${digits} ${noise}`)).toContain(`DR${digits}`);
        },
      ),
    );
  });

  it("never returns anything that is not a normalised drop number", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const d of detectDropNumbers(text)) expect(d).toMatch(/^DR\d{8}$/);
      }),
    );
  });
});

describe("createDropDetector", () => {
  it("supports a per-project pattern with a capture group", () => {
    const d = createDropDetector(String.raw`\bDRP[ -]?(\d{6})\b`);
    // With a group, the drop number is DR + the captured digits.
    expect(d.detect("drp 123456 done")).toEqual(["DR123456"]);
    expect(d.detect("DR12345678")).toEqual([]);
  });

  it("supports a pattern without a group: the whole match, normalised", () => {
    const d = createDropDetector(String.raw`\bLW-\d{5}\b`);
    expect(d.detect("lw-12345 ok")).toEqual(["LW12345"]);
  });

  it("keeps only letters and digits of whatever a custom pattern matches", () => {
    expect(createDropDetector(String.raw`\bJOB/\d{4}\b`).detect("job/1234 done")).toEqual(["JOB1234"]);
    expect(createDropDetector(String.raw`#`).detect("# #")).toEqual([]);
  });

  it("throws on an invalid pattern", () => {
    expect(() => createDropDetector("([")).toThrow();
  });
});
