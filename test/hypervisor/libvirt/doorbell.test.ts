// The event Worker's doorbell counts rings: the Worker knows how many messages the API thread
// posted since it last looked, and does not sleep in poll() before they have all arrived
// (libvirt-event-worker.ts, `unreceived`).

import { writeSync } from "node:fs";
import { expect, test } from "bun:test";
import { DOORBELL_RING, openDoorbell } from "../../../src/hypervisor/libvirt/ffi/doorbell.ts";

test.skipIf(process.platform !== "linux")("draining says how many rings there were, then none until the next", () => {
  const bell = openDoorbell();
  if (bell === undefined) throw new Error("no eventfd on this Linux system");
  try {
    expect(bell.drain()).toBe(0);
    for (let i = 0; i < 3; i++) writeSync(bell.fd, DOORBELL_RING);
    expect(bell.drain()).toBe(3);
    expect(bell.drain()).toBe(0);
    writeSync(bell.fd, DOORBELL_RING);
    expect(bell.drain()).toBe(1);
  } finally {
    bell.close();
  }
  // A closed doorbell has nothing to say (and reads no fd that may since belong to another file).
  expect(bell.drain()).toBe(0);
});
