// VM lifecycle, state, console, snapshots and hot-plug: validate at the boundary, call the
// backend, translate the answer. Failures are thrown as they come; the error interceptor turns
// them into gRPC codes.

import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateVMOnNodeResponseSchema,
  DeleteSnapshotResponseSchema,
  DeleteVMResponseSchema,
  ListSnapshotsResponseSchema,
  ListVMsResponseSchema,
  type NodeDaemonService,
  VMOperationResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
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
import { invalidField } from "../errors.ts";
import { vmState } from "../convert/enums.ts";
import { diskFromWire, nicFromWire, vmSpecFromWire } from "../convert/vm-spec.ts";
import { consoleToWire, snapshotToWire, vmStatusToWire } from "../convert/vm-status.ts";
import { listVmsResponseBinary, vmStatusToWireBinary, wantsBinary } from "../convert/vm-status-binary.ts";
import type { ServiceDeps } from "../deps.ts";
import { createStorageRoots, type StorageRoots } from "../storage-roots.ts";
import { paginate } from "./paginate.ts";

type Impl = Omit<
  ServiceImpl<typeof NodeDaemonService>,
  "healthCheck" | "getNodeInfo" | "migrateVM" | "streamMetrics" | "streamEvents"
>;

/** The most a graceful stop may be asked to wait: one hour. */
const MAX_STOP_TIMEOUT_SECONDS = 3600;
/** Page tokens this node issues are short; anything longer is not one of them. */
const MAX_PAGE_TOKEN_CHARS = 256;
/** Every VM state at most once. */
const MAX_STATES = 16;

export function vmId(id: string, field = "vm_id"): string {
  validateVmId(id, field);
  return id.toLowerCase();
}

const snapshotName = (name: string) => validateSnapshotName(name, "name");

/** Existing images, ISOs and backing files must lie inside the storage roots. */
async function checkDiskPaths(roots: StorageRoots, disks: DiskSpec[], field: (i: number) => string): Promise<void> {
  for (const [i, d] of disks.entries()) {
    if (d.path) await roots.check(d.path, `${field(i)}.path`);
    if (d.newImage?.backingPath) await roots.check(d.newImage.backingPath, `${field(i)}.new_image.backing_path`);
  }
}

const op = (vm: VmStatus) => create(VMOperationResponseSchema, { vm: vmStatusToWire(vm) });

export function vmHandlers(deps: ServiceDeps): Impl {
  const hv = deps.hypervisor;
  const roots = createStorageRoots(deps.storageRoots);
  return {
    async createVM(req) {
      const id = vmId(req.vmId);
      const spec = vmSpecFromWire(req.spec);
      validateVmSpec(spec, "spec");
      await checkDiskPaths(roots, spec.disks, (i) => `spec.disks[${i}]`);
      let { vm, created } = await hv.createVm(id, spec);
      if (req.start && vm.state === "stopped") vm = await hv.startVm(id);
      return create(CreateVMOnNodeResponseSchema, { vm: vmStatusToWire(vm), created });
    },
    startVM: async (req) => op(await hv.startVm(vmId(req.vmId))),
    async stopVM(req) {
      if (req.timeoutSeconds > MAX_STOP_TIMEOUT_SECONDS) {
        throw invalidField("timeout_seconds", `must be at most ${MAX_STOP_TIMEOUT_SECONDS}, got ${req.timeoutSeconds}`);
      }
      const seconds = req.timeoutSeconds || deps.defaultStopTimeoutSeconds;
      return op(await hv.stopVm(vmId(req.vmId), seconds * 1000));
    },
    forceStopVM: async (req) => op(await hv.forceStopVm(vmId(req.vmId))),
    rebootVM: async (req) => op(await hv.rebootVm(vmId(req.vmId))),
    pauseVM: async (req) => op(await hv.pauseVm(vmId(req.vmId))),
    resumeVM: async (req) => op(await hv.resumeVm(vmId(req.vmId))),
    async deleteVM(req) {
      const id = vmId(req.vmId);
      const { deletedDisks } = await hv.deleteVm(id, { deleteDisks: req.deleteDisks, force: req.force });
      return create(DeleteVMResponseSchema, { vmId: id, deletedDisks });
    },

    async getVMStatus(req, ctx) {
      const vm = await hv.getVm(vmId(req.vmId));
      return wantsBinary(ctx.requestHeader.get("content-type")) ? vmStatusToWireBinary(vm) : vmStatusToWire(vm);
    },
    async listVMs(req, ctx) {
      validateLabels(req.labelSelector, "label_selector");
      if (req.states.length > MAX_STATES) throw invalidField("states", `at most ${MAX_STATES} entries are allowed, got ${req.states.length}`);
      if (req.pageToken.length > MAX_PAGE_TOKEN_CHARS) {
        throw invalidField("page_token", "is not a token this node issued; start again without one");
      }
      const states = req.states.map((s, i) => {
        const state = vmState.fromWire(s);
        if (!state) throw invalidField(`states[${i}]`, `unknown VM state ${s}`);
        return state;
      }) satisfies VmState[];
      const vms = await hv.listVms({ labelSelector: req.labelSelector, states });
      const page = paginate(vms, req.pageSize, req.pageToken);
      // Protobuf clients get each VM's status as bytes encoded once (convert/vm-status-binary.ts).
      if (wantsBinary(ctx.requestHeader.get("content-type"))) return listVmsResponseBinary(page.items, page.nextPageToken, vms.length);
      return create(ListVMsResponseSchema, {
        vms: page.items.map(vmStatusToWire),
        nextPageToken: page.nextPageToken,
        totalCount: vms.length,
      });
    },
    getConsole: async (req) => consoleToWire(await hv.getConsole(vmId(req.vmId))),

    async createSnapshot(req) {
      const id = vmId(req.vmId);
      const snapshot = await hv.createSnapshot(id, {
        ...(req.name ? { name: snapshotName(req.name) } : {}),
        description: validateDescription(req.description, "description"),
        includeMemory: req.includeMemory,
        quiesce: req.quiesce,
      });
      return snapshotToWire(snapshot);
    },
    revertSnapshot: async (req) => op(await hv.revertSnapshot(vmId(req.vmId), snapshotName(req.name))),
    async deleteSnapshot(req) {
      const id = vmId(req.vmId);
      const name = snapshotName(req.name);
      await hv.deleteSnapshot(id, name);
      return create(DeleteSnapshotResponseSchema, { vmId: id, name });
    },
    async listSnapshots(req) {
      const snapshots = await hv.listSnapshots(vmId(req.vmId));
      return create(ListSnapshotsResponseSchema, { snapshots: snapshots.map(snapshotToWire) });
    },

    async attachDisk(req) {
      if (!req.disk) throw invalidField("disk", "is required");
      const disk = diskFromWire(req.disk, "disk");
      validateDiskSpec(disk, "disk");
      await checkDiskPaths(roots, [disk], () => "disk");
      return op(await hv.attachDisk(vmId(req.vmId), disk));
    },
    async detachDisk(req) {
      const diskId = validateDeviceId(req.diskId, "disk_id");
      return op(await hv.detachDisk(vmId(req.vmId), diskId));
    },
    async attachNIC(req) {
      if (!req.nic) throw invalidField("nic", "is required");
      const nic = nicFromWire(req.nic, "nic");
      validateNicSpec(nic, "nic");
      return op(await hv.attachNic(vmId(req.vmId), nic));
    },
    async detachNIC(req) {
      const nicId = validateDeviceId(req.nicId, "nic_id");
      return op(await hv.detachNic(vmId(req.vmId), nicId));
    },
  };
}
