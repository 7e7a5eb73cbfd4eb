// Loaded into the agent child by the memory benchmark (NODE_OPTIONS="--expose-gc --import=…"): on SIGUSR2 it
// collects garbage until the heap stops shrinking and writes process.memoryUsage() to BENCH_MEMORY_FILE. The
// agent itself runs unchanged.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_MEMORY_FILE;
const collect = (globalThis as { gc?: () => void }).gc;

if (file && collect) {
  process.on("SIGUSR2", async () => {
    let heap = Infinity;
    for (let i = 0; i < 10; i++) {
      collect();
      await new Promise((r) => setTimeout(r, 200));
      const now = process.memoryUsage().heapUsed;
      if (now > heap * 0.99) break;
      heap = now;
    }
    writeFileSync(file, JSON.stringify(process.memoryUsage()));
  });
}
