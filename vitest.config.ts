import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["shared/test/**/*.test.ts", "edge-api/test/**/*.test.ts", "agent/test/**/*.test.ts", "tools/test/**/*.test.ts"],
    globalSetup: ["tools/test/global-setup.ts"],
    setupFiles: ["tools/test/file-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
