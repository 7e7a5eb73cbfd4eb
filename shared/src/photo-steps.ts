// Which QA step a photo's caption suggests: installers caption their photos with a word or two ("pole", "ONT
// barcode", "entry inside"). Only a suggestion: the reviewer tags the photo. The edge stores it with the photo
// when the agent uploads its record, and the dashboard offers it as one click.
import type { QaStepKey } from "./qa-steps.ts";

/** A whole word or phrase, any case: "ONT" is not the "ont" in "front", "UPS" not the "ups" in "backups". */
const word = (pattern: string) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${pattern})(?![\\p{L}\\p{N}])`, "iu");

const ENTRY = word("entry|entrance|entry point");

// First match wins, so a caption naming two things gets the more specific step: "ONT barcode" is the barcode,
// not the ONT; "UPS serial" the UPS; "green lights on the ONT" the lights; "pole outside the house" the pole.
const RULES: [QaStepKey, (caption: string) => boolean][] = [
  ["ont_barcode", (c) => word("bar ?codes?|serial numbers? of (?:the )?ont|ont serial").test(c)],
  ["ups_serial", (c) => word("ups").test(c)],
  // "meter" is the power meter, but "30 meters of cable" is a length.
  ["power_meter_reading", (c) => word("power ?meters?|electricity meters?|(?<![0-9] ?)meter(?: readings?| box)?").test(c)],
  ["customer_signature", (c) => word("signatures?|signed|sign[- ]?off").test(c)],
  ["green_lights", (c) => word("lights?|green|leds?").test(c)],
  ["cable_entry_inside", (c) => ENTRY.test(c) && word("inside|internal|indoors?").test(c)],
  ["cable_entry_outside", (c) => ENTRY.test(c) && word("outside|external|outdoors?").test(c)],
  ["cable_from_pole", (c) => word("poles?").test(c)],
  ["final_installation", (c) => word("final|finished|completed installation").test(c)],
  ["ont_back_after_install", (c) => word("ont|onts").test(c)],
  ["wall_for_installation", (c) => word("walls?").test(c)],
  ["house_photo", (c) => word("house|houses|home").test(c)],
];

/** The QA step a caption suggests, or null when it names none (an "entry" without inside or outside names none). */
export function suggestStep(caption: string | null | undefined): QaStepKey | null {
  if (!caption) return null;
  for (const [step, matches] of RULES) if (matches(caption)) return step;
  return null;
}
