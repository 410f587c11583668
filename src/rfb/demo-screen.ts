// What the mock's console shows: a background tinted per VM and a status bar at the top with
// the time and an update counter (big 3x5 digits) over a block that moves one step per update,
// so a viewer sees every update arrive. Pure: pixels are a function of the scene and the rect.

export const SCREEN_WIDTH = 640;
export const SCREEN_HEIGHT = 400;
/** The rows an update redraws; everything below is static. */
export const BAR_HEIGHT = 48;

export interface Scene {
  /** Tints the background, so two VMs' consoles look different. */
  vmName: string;
  /** Updates sent so far. */
  frame: number;
  /** Wall-clock time shown in the bar (unix ms). */
  timeMs: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

// 3x5 glyphs, one row per 3 bits, top row first.
const GLYPHS: Record<string, number[]> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 1, 1],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  ":": [0, 2, 0, 2, 0],
  ".": [0, 0, 0, 0, 2],
  " ": [0, 0, 0, 0, 0],
};
const SCALE = 6;
const TEXT_X = 12;
const TEXT_Y = 6;
const ADVANCE = 4 * SCALE;
const BLOCK = 16;

function hue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h;
}

/** "HH:MM:SS.t  NNNNNN": the text the bar shows for a scene. */
export function barText(scene: Scene): string {
  const d = new Date(scene.timeMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${Math.floor(d.getUTCMilliseconds() / 100)}  ${String(scene.frame % 1_000_000).padStart(6, "0")}`;
}

function textPixel(text: string, x: number, y: number): boolean {
  const gx = x - TEXT_X;
  const gy = y - TEXT_Y;
  if (gx < 0 || gy < 0 || gy >= 5 * SCALE) return false;
  const glyph = GLYPHS[text[Math.floor(gx / ADVANCE)] ?? " "];
  const col = Math.floor((gx % ADVANCE) / SCALE);
  if (!glyph || col > 2) return false;
  return (((glyph[Math.floor(gy / SCALE)] ?? 0) >> (2 - col)) & 1) === 1;
}

/** The pixels (0xRRGGBB, row by row) of `rect` for `scene`. */
export function renderRect(scene: Scene, rect: Rect): Uint32Array {
  const out = new Uint32Array(rect.width * rect.height);
  const tint = hue(scene.vmName);
  const [tr, tg, tb] = [tint & 0x7f, (tint >> 8) & 0x7f, (tint >> 16) & 0x7f];
  const text = barText(scene);
  const blockX = (scene.frame * BLOCK) % SCREEN_WIDTH;
  let i = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) {
      let c: number;
      if (y < BAR_HEIGHT) {
        if (y >= BAR_HEIGHT - 8 && x >= blockX && x < blockX + BLOCK) c = 0xffcc00;
        else c = textPixel(text, x, y) ? 0xffffff : 0x202830;
      } else {
        const r = (tr + (x * 128) / SCREEN_WIDTH) | 0;
        const b = (tb + (y * 128) / SCREEN_HEIGHT) | 0;
        c = (r << 16) | (tg << 8) | b;
      }
      out[i++] = c;
    }
  }
  return out;
}
