// The control plane's call sequence, as raw gRPC frames of its own encoding, against the compiled
// binary in dev mode (the mock hypervisor). test/libvirt-api/cp-sequence-real.test.ts runs the
// same sequence on QEMU under libvirtd.

import { afterAll, beforeAll, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BinaryDaemon, startBinaryDaemon } from "../support/binary-daemon.ts";
import { NETINST_ISO, replayControlPlaneSequence, replayNetworkPools } from "./cp-sequence.ts";

const MANAGEMENT_IP = "192.0.2.10";
let daemon: BinaryDaemon;

beforeAll(async () => {
  daemon = await startBinaryDaemon(["--dev"], {
    // Consoles on every address, announced at the management address the control plane dials.
    LIMIQUANTIX_HYPERVISOR_CONSOLE_LISTEN: "0.0.0.0",
    LIMIQUANTIX_CONTROL_PLANE_MANAGEMENT_IP: MANAGEMENT_IP,
  });
}, 180_000);

afterAll(async () => {
  await daemon?.stop();
});

test("the control plane's sequence succeeds step by step on the compiled binary (mock)", async () => {
  const poolDir = join(daemon.stateDir, "pools", "local-ssd");
  mkdirSync(join(poolDir, "iso"), { recursive: true });
  writeFileSync(join(poolDir, "iso", NETINST_ISO), "not really an installer");
  writeFileSync(join(poolDir, "iso", "tools.iso"), "not really tools");
  const cloudDir = join(daemon.stateDir, "vms", "cloud");
  mkdirSync(cloudDir, { recursive: true });
  const cloudImage = join(cloudDir, "debian-12.qcow2");
  writeFileSync(cloudImage, "QFI\xfb");
  await replayControlPlaneSequence({
    client: daemon.client,
    poolDir,
    cloudImage,
    managementHost: MANAGEMENT_IP,
    guestAnswersAcpi: true,
    guestReleasesDevices: true,
  });
}, 120_000);

test("the control plane's NFS, Ceph RBD and iSCSI pools are defined as it sends them (mock: no network)", async () => {
  await replayNetworkPools(daemon.client, undefined);
}, 60_000);
