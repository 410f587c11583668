// The child side of bench/lib/child.ts's line protocol: READY once, then one OK/ERR line per
// stdin command. SIGTERM runs the given stop function and exits 0.

export type CommandHandler = (args: string[]) => Promise<unknown>;

export function serveCommands(info: unknown, handlers: Record<string, CommandHandler>, stop: () => Promise<void>): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let stopping = false;
  process.on("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    stop().finally(() => process.exit(0));
  });
  out(`READY ${JSON.stringify(info)}`);
  let buffered = "";
  let chain = Promise.resolve();
  process.stdin.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let i: number;
    while ((i = buffered.indexOf("\n")) >= 0) {
      const [name, ...args] = buffered.slice(0, i).trim().split(/\s+/);
      buffered = buffered.slice(i + 1);
      const handler = handlers[name ?? ""];
      chain = chain.then(async () => {
        if (!handler) {
          out(`ERR unknown command ${name}`);
          return;
        }
        try {
          out(`OK ${JSON.stringify((await handler(args)) ?? null)}`);
        } catch (err) {
          out(`ERR ${String(err instanceof Error ? err.message : err).replaceAll("\n", " ")}`);
        }
      });
    }
  });
}
