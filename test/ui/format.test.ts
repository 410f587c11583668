import { expect, test } from "bun:test";
import { bytes, duration, eventType, num, percent, powerState } from "../../src/ui/format.ts";

test("uint64 figures arrive as strings in proto3 JSON", () => {
  expect(num("25276194816")).toBe(25276194816);
  expect(num(undefined)).toBe(0);
  expect(num("")).toBe(0);
});

test("bytes in binary units", () => {
  expect(bytes(0)).toBe("0 B");
  expect(bytes(1023)).toBe("1023 B");
  expect(bytes("536870912")).toBe("512.0 MiB");
  expect(bytes("25276194816")).toBe("23.5 GiB");
});

test("percent is clamped and safe on a zero whole", () => {
  expect(percent(1, 4)).toBe(25);
  expect(percent(5, 4)).toBe(100);
  expect(percent(1, 0)).toBe(0);
});

test("enum names read as words", () => {
  expect(powerState("POWER_STATE_RUNNING")).toBe("running");
  expect(powerState(undefined)).toBe("unknown");
  expect(eventType("EVENT_TYPE_SNAPSHOT_REVERTED")).toBe("snapshot reverted");
});

test("durations", () => {
  expect(duration("59")).toBe("0m 59s");
  expect(duration(3 * 3600 + 120)).toBe("3h 2m");
  expect(duration(2 * 86400 + 3600)).toBe("2d 1h 0m");
});
