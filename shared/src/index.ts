export * from "./contract.ts";
export * from "./detector.ts";
export * from "./jid.ts";
export * from "./qa-steps.ts";
export * from "./photos.ts";
export * from "./photo-steps.ts";
