// The demo screen is a pure function of the scene: the bar changes with every update, the rest
// never does, and two VMs look different.

import { expect, test } from "bun:test";
import { BAR_HEIGHT, barText, renderRect, SCREEN_HEIGHT, SCREEN_WIDTH } from "../../src/rfb/demo-screen.ts";

const bar = { x: 0, y: 0, width: SCREEN_WIDTH, height: BAR_HEIGHT };
const below = { x: 0, y: BAR_HEIGHT, width: SCREEN_WIDTH, height: SCREEN_HEIGHT - BAR_HEIGHT };
const same = (a: Uint32Array, b: Uint32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

test("the bar shows the time and the update count", () => {
  expect(barText({ vmName: "a", frame: 42, timeMs: Date.UTC(2026, 11, 4, 20, 1, 2, 345) })).toBe("20:01:02.3  000042");
});

test("each update redraws the bar differently; below it nothing changes; VMs differ", () => {
  const s1 = { vmName: "vm-a", frame: 1, timeMs: 0 };
  const s2 = { ...s1, frame: 2 };
  expect(same(renderRect(s1, bar), renderRect(s2, bar))).toBe(false);
  expect(same(renderRect(s1, below), renderRect(s2, below))).toBe(true);
  expect(same(renderRect(s1, below), renderRect({ ...s1, vmName: "vm-b" }, below))).toBe(false);
  // A sub-rectangle is the same pixels as that part of the whole.
  const whole = renderRect(s1, { x: 0, y: 0, width: SCREEN_WIDTH, height: SCREEN_HEIGHT });
  const part = renderRect(s1, { x: 10, y: 20, width: 3, height: 2 });
  expect([...part]).toEqual([
    ...whole.subarray(20 * SCREEN_WIDTH + 10, 20 * SCREEN_WIDTH + 13),
    ...whole.subarray(21 * SCREEN_WIDTH + 10, 21 * SCREEN_WIDTH + 13),
  ]);
});
