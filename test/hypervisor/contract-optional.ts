// Contract tests for what some backends cannot do (libvirt's test driver has no device hot-plug
// and no console ports); runHypervisorContract includes them as the options say.

import { expect, test } from "bun:test";
import type { VmSpecInput } from "../../src/hypervisor/defaults.ts";
import type { Hypervisor, VmSpec } from "../../src/hypervisor/types.ts";
import { expectKind, rfbGreeting } from "./contract-helpers.ts";
import type { ContractOptions } from "./contract.ts";

type MakeVm = (input?: Partial<VmSpecInput>) => Promise<{ id: string; spec: VmSpec }>;

export function optionalContractTests(opts: ContractOptions, hv: () => Hypervisor, running: MakeVm, created: MakeVm): void {
  if (opts.supportsHotPlug) {
    test("hot-plugged devices show up in the spec; duplicates and unknown ids are refused", async () => {
      const { id } = await running();
      const withDisk = await hv().attachDisk(id, {
        id: "data",
        newImage: { sizeBytes: 1 << 30, format: "qcow2" },
        bus: "virtio",
        bootOrder: 0,
        readonly: false,
        device: "disk",
      });
      // Disks only: every vm also has the node's empty CD-ROM (cdrom-0).
      const disks = (vm: { spec: VmSpec }) => vm.spec.disks.filter((d) => d.device === "disk");
      expect(disks(withDisk).map((d) => [d.id, d.target])).toEqual([
        ["root", "vda"],
        ["data", "vdb"],
      ]);
      await expectKind(hv().attachDisk(id, { ...(disks(withDisk)[1] as VmSpec["disks"][number]) }), "already_exists");
      await expectKind(hv().detachDisk(id, "nope"), "not_found");
      expect(disks(await hv().detachDisk(id, "data")).map((d) => d.id)).toEqual(["root"]);

      const withNic = await hv().attachNic(id, { id: "eth1", network: opts.network ?? "default", model: "virtio" });
      expect(withNic.spec.nics[1]?.mac).toMatch(/^52:54:00/);
      await expectKind(hv().attachNic(id, { id: "eth1", bridge: "br1", model: "virtio" }), "already_exists");
      await expectKind(hv().detachNic(id, "nope"), "not_found");
      expect((await hv().getVm(id)).spec.nics.map((x) => x.id)).toEqual(["eth0", "eth1"]);
      await hv().detachNic(id, "eth1");
      await hv().pauseVm(id);
      await expectKind(hv().attachNic(id, { id: "eth2", bridge: "br0", model: "virtio" }), "invalid_state");
    });
  }

  if (opts.supportsConsole) {
    test("a running vm has a console, a stopped one does not", async () => {
      const { id } = await running({ console: { type: "vnc", password: "secret" } });
      const console = await hv().getConsole(id);
      expect(console).toMatchObject({ type: "vnc", password: "secret" });
      expect(console.port).toBeGreaterThanOrEqual(5900);
      // Something speaks RFB there (QEMU's VNC server; the mock's demo console).
      expect(await rfbGreeting(console.port)).toMatch(/^RFB 003\.00\d\n$/);
      await hv().forceStopVm(id);
      await expectKind(hv().getConsole(id), "invalid_state");
    });
  }

  if (opts.supportsMigration) {
    test("live migration of a stopped vm is refused and leaves it alone", async () => {
      const { id } = await created();
      const it = hv().migrateVm(id, { targetUri: "qemu+tcp://node-2.example/system", live: true, copyStorage: false }, new AbortController().signal);
      const drain = async () => {
        for await (const _ of it) {
          // nothing is expected
        }
      };
      await expectKind(drain(), "invalid_state");
      expect((await hv().getVm(id)).state).toBe("stopped");
    });

    test("migration to a target that is down fails with unavailable and the vm stays running here", async () => {
      const { id } = await running();
      // A name that never resolves (RFC 2606); copyStorage so libvirt gets as far as dialling it
      // (local disks without it are refused as unsafe first).
      const target = "qemu+tcp://lq-target-down.invalid/system";
      const phases: string[] = [];
      const drain = async () => {
        for await (const p of hv().migrateVm(id, { targetUri: target, live: true, copyStorage: true }, new AbortController().signal)) phases.push(p.phase);
      };
      const err = await expectKind(drain(), "unavailable");
      expect(err.message).toContain("lq-target-down.invalid");
      expect(phases.at(-1)).toBe("failed");
      expect((await hv().getVm(id)).state).toBe("running");
    });
  }
}
