import { describe, expect, it } from "vitest";
import { QA_STEP_KEYS } from "../src/qa-steps.ts";
import { suggestStep } from "../src/photo-steps.ts";

describe("suggestStep", () => {
  const cases: [string | null, string | null][] = [
    ["House", "house_photo"],
    ["front of the house, no 14", "house_photo"],
    ["pole", "cable_from_pole"],
    ["Cable from POLE to house", "cable_from_pole"],
    ["entry outside", "cable_entry_outside"],
    ["Entry point (outside)", "cable_entry_outside"],
    ["cable entry inside the lounge", "cable_entry_inside"],
    ["wall", "wall_for_installation"],
    ["Wall before install", "wall_for_installation"],
    ["ONT", "ont_back_after_install"],
    ["ont back after install", "ont_back_after_install"],
    ["ONT barcode", "ont_barcode"],
    ["barcode", "ont_barcode"],
    ["Power meter", "power_meter_reading"],
    ["meter reading 004512", "power_meter_reading"],
    ["UPS serial", "ups_serial"],
    ["ups", "ups_serial"],
    ["Final", "final_installation"],
    ["final installation DR12345678", "final_installation"],
    ["lights", "green_lights"],
    ["all green on the ONT", "green_lights"],
    ["Customer signature", "customer_signature"],
    ["signed by client", "customer_signature"],
  ];
  for (const [caption, step] of cases) {
    it(`suggests ${step} for ${JSON.stringify(caption)}`, () => expect(suggestStep(caption)).toBe(step));
  }

  it("suggests only real step keys", () => {
    for (const [, step] of cases) expect(QA_STEP_KEYS).toContain(step);
  });

  const none: (string | null | undefined)[] = [
    null,
    undefined,
    "",
    "DR12345678 done",
    "front door", // "ont" inside a word is not the ONT
    "backups done", // nor is "ups" inside a word the UPS
    "entry", // an entry without inside or outside names no step
    "30 meters of drop cable", // a length, not the power meter
    "housekeeping", // words, not parts of words
  ];
  for (const caption of none) {
    it(`suggests nothing for ${JSON.stringify(caption)}`, () => expect(suggestStep(caption)).toBeNull());
  }
});
