// The 12 photo steps QA checks for every drop. The keys are the column names in Postgres and the field names
// on the wire; the labels are what installers read in feedback messages.
export const QA_STEPS = [
  { key: "house_photo", label: "House photo" },
  { key: "cable_from_pole", label: "Cable from pole" },
  { key: "cable_entry_outside", label: "Cable entry outside" },
  { key: "cable_entry_inside", label: "Cable entry inside" },
  { key: "wall_for_installation", label: "Wall for installation" },
  { key: "ont_back_after_install", label: "ONT back after install" },
  { key: "power_meter_reading", label: "Power meter reading" },
  { key: "ont_barcode", label: "ONT barcode" },
  { key: "ups_serial", label: "UPS serial" },
  { key: "final_installation", label: "Final installation" },
  { key: "green_lights", label: "Green lights" },
  { key: "customer_signature", label: "Customer signature" },
] as const;

export type QaStepKey = (typeof QA_STEPS)[number]["key"];

export const QA_STEP_KEYS = QA_STEPS.map((s) => s.key) as [QaStepKey, ...QaStepKey[]];

export type QaSteps = Record<QaStepKey, boolean>;

export function qaStepLabel(key: QaStepKey): string {
  return QA_STEPS.find((s) => s.key === key)!.label;
}

export function missingSteps(steps: QaSteps): QaStepKey[] {
  return QA_STEP_KEYS.filter((k) => !steps[k]);
}
