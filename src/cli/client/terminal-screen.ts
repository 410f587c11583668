// A full-screen view on a terminal: the alternate screen (so the shell's screen comes back
// untouched), a hidden cursor, keys read one by one, and all of it undone by restore() however
// the view ends.

const ESC = "\x1b[";
const ENTER = `${ESC}?1049h${ESC}?25l`;
const LEAVE = `${ESC}?25h${ESC}?1049l`;

export interface Screen {
  width(): number;
  /** Replaces the screen's content with these lines. */
  draw(lines: string[]): void;
  onKey(listener: (key: string) => void): void;
  restore(): void;
}

export function createTerminalScreen(input: NodeJS.ReadStream, output: NodeJS.WriteStream): Screen {
  const raw = input.isTTY === true;
  let restored = false;
  let lastLines: string[] = [];
  const listeners: ((key: string) => void)[] = [];
  const onData = (chunk: Buffer | string) => {
    for (const l of listeners) l(chunk.toString());
  };
  const onResize = () => draw(lastLines);

  function draw(lines: string[]) {
    lastLines = lines;
    const height = output.rows || lines.length;
    // Home, each line cleared to its end, then everything below cleared: no flicker, no leftovers.
    output.write(
      `${ESC}H${lines
        .slice(0, height)
        .map((l) => `${l}${ESC}K`)
        .join("\r\n")}${ESC}J`,
    );
  }

  // A crash must not leave the terminal raw and blank.
  const onExit = () => restore();

  function restore() {
    if (restored) return;
    restored = true;
    input.off("data", onData);
    output.off("resize", onResize);
    process.off("exit", onExit);
    if (raw) {
      input.setRawMode(false);
      input.pause();
    }
    output.write(LEAVE);
  }

  output.write(ENTER);
  output.on("resize", onResize);
  process.on("exit", onExit);
  if (raw) {
    input.setRawMode(true);
    input.resume();
    input.on("data", onData);
  }

  return {
    width: () => output.columns || 80,
    draw,
    onKey: (l) => void listeners.push(l),
    restore,
  };
}
