// HealthCheck and GetNodeInfo. HealthCheck touches nothing that can block: it is what load
// balancers and the control plane poll, and it must answer while libvirt is busy or gone.

import { create } from "@bufbuild/protobuf";
import {
  HealthCheckResponseSchema,
  NodeInfoSchema,
  type NodeDaemonService,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { ServiceImpl } from "@connectrpc/connect";
import { diskFormat } from "../convert/enums.ts";
import { toCpuInfo, toMemoryInfo, toOsInfo, toPciDevices } from "../telemetry-convert.ts";
import type { ServiceDeps } from "../deps.ts";

type Impl = Pick<ServiceImpl<typeof NodeDaemonService>, "healthCheck" | "getNodeInfo">;

export function nodeHandlers(deps: ServiceDeps): Impl {
  const uptimeSeconds = () => BigInt(Math.floor((performance.now() - deps.startedAtMs) / 1000));
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
        uptimeSeconds: uptimeSeconds(),
        hypervisor: deps.hypervisor.backend,
        hypervisorVersion,
        registered: deps.node.registered(),
        nodeId: deps.node.nodeId(),
        message: health.ok ? "" : (health.message ?? "hypervisor unavailable"),
      });
    },

    async getNodeInfo() {
      const [identity, info, caps] = await Promise.all([
        deps.hostIdentity(),
        deps.hypervisor.info(),
        deps.hypervisor.capabilities(),
      ]);
      return create(NodeInfoSchema, {
        nodeId: deps.node.nodeId(),
        hostname: identity.hostname,
        managementIp: deps.node.managementIp(),
        cpu: toCpuInfo(identity),
        memory: toMemoryInfo(identity),
        os: toOsInfo(identity),
        hypervisor: {
          backend: info.backend,
          name: info.name,
          version: info.version,
          uri: info.uri,
          libvirtVersion: info.libvirtVersion ?? "",
        },
        capabilities: {
          liveMigration: caps.liveMigration,
          snapshots: caps.snapshots,
          hotPlug: caps.hotPlug,
          gpuPassthrough: caps.gpuPassthrough,
          maxVcpus: caps.maxVcpus,
          maxMemoryBytes: BigInt(caps.maxMemoryBytes),
          diskFormats: caps.diskFormats.map(diskFormat.toWire),
          uefi: caps.uefi,
        },
        pciDevices: toPciDevices(identity),
        numaNodes: identity.numaNodes,
        labels: deps.node.labels(),
        daemonVersion: deps.version,
        uptimeSeconds: uptimeSeconds(),
      });
    },
  };
}
