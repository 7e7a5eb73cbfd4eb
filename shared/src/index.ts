export * from "./contract.ts";
export * from "./detector.ts";
export * from "./qa-steps.ts";
