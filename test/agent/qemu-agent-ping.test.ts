// REST qemu-agent/ping's question to the backend (agent/qemu-agent-ping.ts): guest-ping through
// qemuAgentCommand, by VM id, bounded; the real answer from qemu-ga is checked in
// test/libvirt-api/real-guest-agent.test.ts.

import { describe, expect, test } from "bun:test";
import { qemuAgentPingOf } from "../../src/agent/qemu-agent-ping.ts";
import { HypervisorError } from "../../src/hypervisor/errors.ts";

describe("qemuAgentPingOf", () => {
  test("a backend without qemuAgentCommand (the mock) offers no ping", () => {
    expect(qemuAgentPingOf({})).toEqual({});
  });

  test("sends guest-ping with a 5 s bound for the VM id; an answer is available", async () => {
    const sent: unknown[] = [];
    const { qemuAgentPing } = qemuAgentPingOf({
      qemuAgentCommand: async (id, command, timeoutSeconds) => {
        sent.push([id, JSON.parse(command), timeoutSeconds]);
        return '{"return":{}}';
      },
    });
    expect(await qemuAgentPing?.("7c9e6679-7425-40de-944b-e07fc1f90ae7")).toEqual({ available: true });
    expect(sent).toEqual([["7c9e6679-7425-40de-944b-e07fc1f90ae7", { execute: "guest-ping" }, 5]]);
  });

  test("libvirt's error (no qemu-ga in the guest) becomes available: false with its message", async () => {
    const { qemuAgentPing } = qemuAgentPingOf({
      qemuAgentCommand: async () => {
        throw new HypervisorError("unavailable", "QEMU guest agent command: Guest agent is not responding: QEMU guest agent is not connected");
      },
    });
    expect(await qemuAgentPing?.("7c9e6679-7425-40de-944b-e07fc1f90ae7")).toEqual({
      available: false,
      error: "QEMU guest agent command: Guest agent is not responding: QEMU guest agent is not connected",
    });
  });
});
