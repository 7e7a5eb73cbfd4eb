// Prefixed, optionally coloured log lines for the local stack, so interleaved output stays readable.
const COLOURS = [36, 35, 33, 32, 34, 31];
const useColour = process.stdout.isTTY && !process.env.NO_COLOR;
let next = 0;

export type Log = (line: string) => void;

export function logger(name: string): Log {
  const tag = `[${name}]`.padEnd(8);
  const colour = COLOURS[next++ % COLOURS.length];
  const prefix = useColour ? `\x1b[${colour}m${tag}\x1b[0m` : tag;
  return (line) => {
    for (const l of line.split("\n")) if (l.trim()) process.stdout.write(`${prefix} ${l}\n`);
  };
}

/** Feeds a child's stream to a log, line by line. */
export function pipeLines(stream: NodeJS.ReadableStream | null, log: Log): void {
  if (!stream) return;
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) log(l);
  });
  stream.on("end", () => buf && log(buf));
}
