// HealthCheck and GetNodeInfo. HealthCheck touches nothing that can block: it is what load
// balancers and the control plane poll, and it must answer while libvirt is busy or gone.

import { uptime as hostUptime } from "node:os";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { HealthCheckResponseSchema, type NodeDaemonService, NodeInfoResponseSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { diskFormat } from "../convert/enums.ts";
import { absentNodeInfoFields, toCpuInfo, toMemoryInfo, toNetworkInfo, toOsInfo, toPciDevices, toStorageInfo } from "../convert/telemetry.ts";
import type { ServiceDeps } from "../deps.ts";

type Impl = Pick<ServiceImpl<typeof NodeDaemonService>, "healthCheck" | "getNodeInfo">;

export function nodeHandlers(deps: ServiceDeps): Impl {
  const daemonUptimeSeconds = () => BigInt(Math.floor((performance.now() - deps.startedAtMs) / 1000));
  let hypervisorVersion = "";
  // Read once in the background; HealthCheck must never wait on the hypervisor.
  deps.hypervisor.info().then(
    (i) => (hypervisorVersion = i.version),
    () => {},
  );

  return {
    healthCheck() {
      const health = deps.hypervisor.healthy();
      return create(HealthCheckResponseSchema, {
        healthy: health.ok,
        version: deps.version,
        hypervisor: deps.hypervisor.backend,
        hypervisorVersion,
        uptimeSeconds: BigInt(Math.floor(hostUptime())),
        registered: deps.node.registered(),
        nodeId: deps.node.nodeId(),
        message: health.ok ? "" : (health.message ?? "hypervisor unavailable"),
        daemonUptimeSeconds: daemonUptimeSeconds(),
      });
    },

    async getNodeInfo() {
      const [identity, info, caps, sample, interfaces] = await Promise.all([
        deps.hostIdentity(),
        deps.hypervisor.info(),
        deps.hypervisor.capabilities(),
        deps.hostSample(),
        deps.interfaces(),
      ]);
      return create(NodeInfoResponseSchema, {
        nodeId: deps.node.nodeId(),
        hostname: identity.hostname,
        managementIp: deps.node.managementIp(),
        cpu: toCpuInfo(identity),
        memory: toMemoryInfo(identity),
        storage: toStorageInfo(sample),
        network: toNetworkInfo(interfaces),
        capabilities: {
          name: info.name,
          version: info.version,
          supportsLiveMigration: caps.liveMigration,
          supportsSnapshots: caps.snapshots,
          supportsHotplug: caps.hotPlug,
          supportsGpuPassthrough: caps.gpuPassthrough,
          // The host's CPU offers virtualization to guests only under KVM (nested KVM).
          supportsNestedVirtualization: caps.hardwareAcceleration && identity.cpu.virtualization,
          maxVcpus: caps.maxVcpus,
          maxMemoryBytes: BigInt(caps.maxMemoryBytes),
          hardwareAcceleration: caps.hardwareAcceleration,
          domainType: caps.domainType,
          diskFormats: caps.diskFormats.map(diskFormat.toWire),
          uefi: caps.uefi,
        },
        os: toOsInfo(identity),
        hypervisor: {
          backend: info.backend,
          name: info.name,
          version: info.version,
          uri: info.uri,
          libvirtVersion: info.libvirtVersion ?? "",
        },
        pciDevices: toPciDevices(identity),
        numaNodes: identity.numaNodes ?? 0,
        labels: deps.node.labels(),
        daemonVersion: deps.version,
        daemonUptimeSeconds: daemonUptimeSeconds(),
        absentFields: absentNodeInfoFields(identity),
      });
    },
  };
}
