// Which groups are monitored, and the drop detector of each (the project's own pattern or the default).
import { createDropDetector, type DropDetector } from "@wa-monitor/shared";
import type { AgentConfig } from "../config.ts";

export interface MonitoredGroup {
  project: string;
  detector: DropDetector;
}

export function monitoredGroups(config: AgentConfig): Map<string, MonitoredGroup> {
  const out = new Map<string, MonitoredGroup>();
  const shared = createDropDetector();
  for (const p of config.projects) {
    if (!p.enabled) continue;
    out.set(p.groupJid, { project: p.name, detector: p.pattern ? createDropDetector(p.pattern) : shared });
  }
  return out;
}
