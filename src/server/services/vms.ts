// VM lifecycle, state, console, snapshots, hot-plug and media: validate at the boundary, call the
// backend, translate the answer. Failures are thrown as they come; the error interceptor turns
// them into gRPC codes.

import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateVMOnNodeResponseSchema,
  DeleteSnapshotResponseSchema,
  DeleteVMResponseSchema,
  ListSnapshotsResponseSchema,
  ListVMsOnNodeResponseSchema,
  type NodeDaemonService,
  VMOperationResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { cdromOfVm } from "../../hypervisor/storage/index.ts";
import { isAlreadyThere, type PowerOp } from "../../hypervisor/transitions.ts";
import type { DiskSpec, VmState, VmStatus } from "../../hypervisor/types.ts";
import {
  validateDescription,
  validateDeviceId,
  validateDiskSpec,
  validateLabels,
  validateNicSpec,
  validateSnapshotName,
  validateVmId,
  validateVmSpec,
} from "../../hypervisor/validation.ts";
import { powerState } from "../convert/enums.ts";
import { wireField as wireFieldName, withWireFields } from "../convert/field-names.ts";
import { diskFromWire, nicFromWire, vmSpecFromWire } from "../convert/vm-spec.ts";
import { consoleToWire, snapshotToWire, vmStatusToWire } from "../convert/vm-status.ts";
import type { ServiceDeps } from "../deps.ts";
import { invalidField } from "../errors.ts";
import { createStorageRoots, type StorageRoots } from "../storage-roots.ts";
import { guestAgentToWire } from "../convert/guest-agent.ts";
import type { AgentImpl } from "./agent.ts";
import type { StorageImpl } from "./storage.ts";
import { paginate } from "./paginate.ts";

type Impl = Omit<
  ServiceImpl<typeof NodeDaemonService>,
  "healthCheck" | "getNodeInfo" | "migrateVM" | "streamMetrics" | "streamEvents" | keyof StorageImpl | keyof AgentImpl
>;

/** States with a QEMU process whose memory a snapshot holds. */
const LIVE_STATES: ReadonlySet<VmState> = new Set(["running", "paused", "shutting_down"]);

/** The most a graceful stop may be asked to wait: one hour. */
const MAX_STOP_TIMEOUT_SECONDS = 3600;
/** Page tokens this node issues are short; anything longer is not one of them. */
const MAX_PAGE_TOKEN_CHARS = 256;
/** Every power state at most once. */
const MAX_STATES = 16;

export function vmId(id: string, field = "vm_id"): string {
  validateVmId(id, field);
  return id.toLowerCase();
}

const snapshotName = (name: string, field: string) => validateSnapshotName(name, field);

/** Existing images, ISOs and backing files named by absolute path must lie inside the storage roots. */
async function checkDiskPaths(roots: StorageRoots, disks: DiskSpec[], field: (d: DiskSpec) => string): Promise<void> {
  for (const d of disks) {
    if (d.path) await roots.check(d.path, `${field(d)}.${d.device === "cdrom" ? "iso_path" : "path"}`);
    const backing = d.newImage?.backingPath;
    if (backing?.startsWith("/")) await roots.check(backing, `${field(d)}.backing_file`);
  }
}

/** The wire field of a model disk: spec.disks[i] or spec.cdroms[i]. */
function wireField(spec: { disks: DiskSpec[] }, prefix: string) {
  return (d: DiskSpec) => wireFieldName(`${prefix}.disks[${spec.disks.indexOf(d)}]`, spec.disks);
}

/**
 * Power operations are idempotent on the API: asking for the state a VM is already in succeeds
 * and changes nothing (the "already" cases of hypervisor/transitions.ts). The control plane
 * relies on it (a StartVM error makes it record the VM as stopped; a stop error as running), and
 * so does any client retrying after a lost answer.
 */
export function vmHandlers(deps: ServiceDeps): Impl {
  const hv = deps.hypervisor;
  const roots = createStorageRoots(deps.storageRoots, async () => (await hv.listPools()).map((p) => p.path).filter((p) => p !== ""));
  const specDefaults = { defaultNetwork: deps.defaultNetwork };
  const op = (vm: VmStatus) => create(VMOperationResponseSchema, { vm: vmStatusToWire(vm) });

  async function idempotent(kind: PowerOp, id: string, act: () => Promise<VmStatus>) {
    try {
      return op(await act());
    } catch (err) {
      if (!(err instanceof HypervisorError && err.kind === "invalid_state")) throw err;
      const vm = await hv.getVm(id);
      if (isAlreadyThere(kind, vm.state)) return op(vm);
      throw err;
    }
  }

  /** Freezes through the Quantix agent when it answers; undefined when it cannot (qemu-ga's turn). */
  async function freezeThroughAgent(id: string): Promise<{ thaw(): Promise<void> } | undefined> {
    const agents = deps.agents;
    if (!agents?.connected(id)) return undefined;
    try {
      const q = await agents.quiesce(id, { timeoutSeconds: 30 });
      if (!q.success) {
        deps.log.warn(`vm ${id}: the guest agent could not freeze its filesystems (${q.error}); trying qemu-ga`);
        if (q.token) await agents.thaw(id, { token: q.token }).catch(() => undefined);
        return undefined;
      }
      return {
        async thaw() {
          const t = await agents.thaw(id, { token: q.token }).catch((err: Error) => ({ success: false, error: err.message }));
          if (!t.success) deps.log.error(`vm ${id}: thawing the guest's filesystems after a snapshot failed: ${t.error}`);
        },
      };
    } catch (err) {
      deps.log.warn(`vm ${id}: the guest agent did not freeze its filesystems (${(err as Error).message}); trying qemu-ga`);
      return undefined;
    }
  }

  /**
   * ACPI first; a guest that ignores it (no ACPI daemon) but whose Quantix agent answers is asked
   * to power off through the agent halfway through the timeout.
   */
  async function stopGracefully(id: string, timeoutMs: number): Promise<VmStatus> {
    const agents = deps.agents;
    if (!agents?.connected(id)) return hv.stopVm(id, timeoutMs);
    const half = Math.max(1000, Math.floor(timeoutMs / 2));
    try {
      return await hv.stopVm(id, half);
    } catch (err) {
      if (!(err instanceof HypervisorError && err.kind === "timeout")) throw err;
      const r = await agents.shutdown(id, "poweroff").catch((e: Error) => ({ accepted: false, error: e.message }));
      deps.log.info(`vm ${id} ignored ACPI for ${half} ms; asked its guest agent to power off: ${r.accepted ? "accepted" : r.error}`);
      if (!r.accepted) throw err;
      return hv.stopVm(id, Math.max(1000, timeoutMs - half));
    }
  }

  return {
    async createVM(req) {
      const id = req.vmId ? vmId(req.vmId) : randomUUID();
      const spec = vmSpecFromWire(req, specDefaults);
      let { vm, created } = await withWireFields(spec.disks, async () => {
        validateVmSpec(spec, "spec");
        await checkDiskPaths(roots, spec.disks, wireField(spec, "spec"));
        return hv.createVm(id, spec);
      });
      if (req.start && vm.state === "stopped") vm = await hv.startVm(id);
      return create(CreateVMOnNodeResponseSchema, {
        vmId: id,
        created,
        message: created ? "VM created" : "VM already exists with this spec",
        vm: vmStatusToWire(vm),
      });
    },
    async startVM(req) {
      const id = vmId(req.vmId);
      return idempotent("start", id, () => hv.startVm(id));
    },
    async stopVM(req) {
      if (req.timeoutSeconds > MAX_STOP_TIMEOUT_SECONDS) {
        throw invalidField("timeout_seconds", `must be at most ${MAX_STOP_TIMEOUT_SECONDS}, got ${req.timeoutSeconds}`);
      }
      const id = vmId(req.vmId);
      const seconds = req.timeoutSeconds || deps.defaultStopTimeoutSeconds;
      return idempotent("stop", id, () => stopGracefully(id, seconds * 1000));
    },
    async forceStopVM(req) {
      const id = vmId(req.vmId);
      return idempotent("force_stop", id, () => hv.forceStopVm(id));
    },
    rebootVM: async (req) => op(await hv.rebootVm(vmId(req.vmId))),
    async pauseVM(req) {
      const id = vmId(req.vmId);
      return idempotent("pause", id, () => hv.pauseVm(id));
    },
    async resumeVM(req) {
      const id = vmId(req.vmId);
      return idempotent("resume", id, () => hv.resumeVm(id));
    },
    async deleteVM(req) {
      const id = vmId(req.vmId);
      const { deletedDisks } = await hv.deleteVm(id, { deleteDisks: req.deleteDisks, force: req.force });
      return create(DeleteVMResponseSchema, { vmId: id, deletedDisks });
    },

    async getVMStatus(req) {
      const vm = await hv.getVm(vmId(req.vmId));
      const wire = vmStatusToWire(vm);
      const facts = deps.agents?.facts(vm.id);
      if (facts) wire.guestAgent = guestAgentToWire(facts);
      return wire;
    },
    async listVMs(req) {
      validateLabels(req.labelSelector, "label_selector");
      if (req.states.length > MAX_STATES) throw invalidField("states", `at most ${MAX_STATES} entries are allowed, got ${req.states.length}`);
      if (req.pageToken.length > MAX_PAGE_TOKEN_CHARS) {
        throw invalidField("page_token", "is not a token this node issued; start again without one");
      }
      const states = req.states.flatMap((s, i) => {
        if (!powerState.known(s)) throw invalidField(`states[${i}]`, `unknown power state ${s}`);
        return powerState.statesOf(s);
      });
      const vms = await hv.listVms({ labelSelector: req.labelSelector, ...(states.length ? { states } : {}) });
      const page = paginate(vms, req.pageSize, req.pageToken);
      return create(ListVMsOnNodeResponseSchema, {
        vms: page.items.map(vmStatusToWire),
        nextPageToken: page.nextPageToken,
        totalCount: vms.length,
      });
    },
    getConsole: async (req) => consoleToWire(await hv.getConsole(vmId(req.vmId)), deps.node.managementHost()),

    async createSnapshot(req) {
      const id = vmId(req.vmId);
      const { state } = await hv.getVm(id);
      const name = req.name ? snapshotName(req.name, "name") : undefined;
      const description = validateDescription(req.description, "description");
      // The Quantix agent freezes the guest's filesystems when it answers; otherwise the backend
      // asks qemu-ga (libvirt's quiesce flag). Either way the guest is thawed, even on failure.
      const frozen = req.quiesce && state === "running" ? await freezeThroughAgent(id) : undefined;
      let snapshot: Awaited<ReturnType<typeof hv.createSnapshot>>;
      try {
        snapshot = await hv.createSnapshot(id, {
          ...(name ? { name } : {}),
          description,
          // QEMU snapshots a live guest only with its memory; the request has no say (proto).
          includeMemory: LIVE_STATES.has(state),
          quiesce: req.quiesce && frozen === undefined,
        });
      } finally {
        if (frozen) await frozen.thaw();
      }
      return snapshotToWire(frozen ? { ...snapshot, quiesced: true } : snapshot);
    },
    revertSnapshot: async (req) => op(await hv.revertSnapshot(vmId(req.vmId), snapshotName(req.snapshotId, "snapshot_id"))),
    async deleteSnapshot(req) {
      const id = vmId(req.vmId);
      const name = snapshotName(req.snapshotId, "snapshot_id");
      await hv.deleteSnapshot(id, name);
      return create(DeleteSnapshotResponseSchema, { vmId: id, snapshotId: name });
    },
    async listSnapshots(req) {
      const snapshots = await hv.listSnapshots(vmId(req.vmId));
      return create(ListSnapshotsResponseSchema, { snapshots: snapshots.map(snapshotToWire) });
    },

    async attachDisk(req) {
      if (!req.disk) throw invalidField("disk", "is required");
      const id = vmId(req.vmId);
      const index = req.disk.id ? 0 : (await hv.getVm(id)).spec.disks.filter((d) => d.device === "disk").length;
      const disk = diskFromWire(req.disk, "disk", index);
      return withWireFields([disk], async () => {
        validateDiskSpec(disk, "disk");
        await checkDiskPaths(roots, [disk], () => "disk");
        return op(await hv.attachDisk(id, disk));
      });
    },
    async detachDisk(req) {
      const diskId = validateDeviceId(req.diskId, "disk_id");
      return op(await hv.detachDisk(vmId(req.vmId), diskId));
    },
    async attachNIC(req) {
      if (!req.nic) throw invalidField("nic", "is required");
      const id = vmId(req.vmId);
      const index = req.nic.id ? 0 : (await hv.getVm(id)).spec.nics.length;
      const nic = nicFromWire(req.nic, "nic", specDefaults, index);
      return withWireFields([], async () => {
        validateNicSpec(nic, "nic");
        return op(await hv.attachNic(id, nic));
      });
    },
    async detachNIC(req) {
      const nicId = validateDeviceId(req.nicId, "nic_id");
      return op(await hv.detachNic(vmId(req.vmId), nicId));
    },
    async changeMedia(req) {
      const id = vmId(req.vmId);
      let cdromId = req.cdromId;
      if (cdromId) validateDeviceId(cdromId, "cdrom_id");
      else {
        if (!req.device) throw invalidField("device", "name the CD-ROM (e.g. sdc), or give cdrom_id");
        cdromId = cdromOfVm((await hv.getVm(id)).spec.disks, req.device).id;
      }
      const iso = req.isoPath;
      if (iso.startsWith("/")) await roots.check(iso, "iso_path");
      const medium = iso === "" ? {} : iso.startsWith("/") ? { path: iso } : { volume: iso };
      return op(await hv.changeMedia(id, cdromId, medium));
    },
  };
}
