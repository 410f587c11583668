// The wire contract with the Quantix control plane, transcribed by hand from
// /work/shared/node-daemon-contract.md section 2 (2.1 RPCs, 2.2 messages, 2.3 enums).
// It is written independently of our proto on purpose: contract-numbers.test.ts checks the
// generated descriptors against it. Do not regenerate it from the proto.
//
// Field rows read "<number> <name> <type>" with proto types: scalars by their proto name, our
// package's messages and enums by short name, `repeated T`, `map<K, V>`, `optional T`.

export const PACKAGE = "limiquantix.node.v1";
export const EMPTY = "google.protobuf.Empty";

export type MethodKind = "unary" | "server_streaming";
/** [rpc, request, response, kind], contract section 2.1, in declaration order. */
export type ContractRpc = readonly [rpc: string, request: string, response: string, kind: MethodKind];

export const CONTRACT_RPCS: readonly ContractRpc[] = [
  ["HealthCheck", "HealthCheckRequest", "HealthCheckResponse", "unary"],
  ["GetNodeInfo", EMPTY, "NodeInfoResponse", "unary"],
  ["CreateVM", "CreateVMOnNodeRequest", "CreateVMOnNodeResponse", "unary"],
  ["StartVM", "VMIdRequest", EMPTY, "unary"],
  ["StopVM", "StopVMRequest", EMPTY, "unary"],
  ["ForceStopVM", "VMIdRequest", EMPTY, "unary"],
  ["RebootVM", "VMIdRequest", EMPTY, "unary"],
  ["PauseVM", "VMIdRequest", EMPTY, "unary"],
  ["ResumeVM", "VMIdRequest", EMPTY, "unary"],
  ["DeleteVM", "VMIdRequest", EMPTY, "unary"],
  ["GetVMStatus", "VMIdRequest", "VMStatusResponse", "unary"],
  ["ListVMs", EMPTY, "ListVMsOnNodeResponse", "unary"],
  ["GetConsole", "VMIdRequest", "ConsoleInfoResponse", "unary"],
  ["CreateSnapshot", "CreateSnapshotRequest", "SnapshotResponse", "unary"],
  ["RevertSnapshot", "RevertSnapshotRequest", EMPTY, "unary"],
  ["DeleteSnapshot", "DeleteSnapshotRequest", EMPTY, "unary"],
  ["ListSnapshots", "VMIdRequest", "ListSnapshotsResponse", "unary"],
  ["AttachDisk", "AttachDiskRequest", EMPTY, "unary"],
  ["DetachDisk", "DetachDiskRequest", EMPTY, "unary"],
  ["AttachNIC", "AttachNICRequest", EMPTY, "unary"],
  ["DetachNIC", "DetachNICRequest", EMPTY, "unary"],
  ["ChangeMedia", "ChangeMediaRequest", EMPTY, "unary"],
  ["PrepareMigration", "PrepareMigrationRequest", "MigrationToken", "unary"],
  ["ReceiveMigration", "MigrationToken", EMPTY, "unary"],
  ["MigrateVM", "MigrateVMRequest", "MigrationProgress", "server_streaming"],
  ["StreamMetrics", "StreamMetricsRequest", "NodeMetrics", "server_streaming"],
  ["StreamEvents", EMPTY, "NodeEvent", "server_streaming"],
  ["DownloadImage", "DownloadImageOnNodeRequest", "DownloadProgress", "server_streaming"],
  ["GetDownloadStatus", "GetDownloadStatusRequest", "DownloadProgress", "unary"],
  ["CancelDownload", "CancelDownloadRequest", EMPTY, "unary"],
  ["InitStoragePool", "InitStoragePoolRequest", "StoragePoolInfoResponse", "unary"],
  ["DestroyStoragePool", "StoragePoolIdRequest", EMPTY, "unary"],
  ["GetStoragePoolInfo", "StoragePoolIdRequest", "StoragePoolInfoResponse", "unary"],
  ["ListStoragePools", EMPTY, "ListStoragePoolsResponse", "unary"],
  ["ListStoragePoolFiles", "ListStoragePoolFilesRequest", "ListStoragePoolFilesResponse", "unary"],
  ["CreateVolume", "CreateVolumeRequest", EMPTY, "unary"],
  ["DeleteVolume", "VolumeIdRequest", EMPTY, "unary"],
  ["ResizeVolume", "ResizeVolumeRequest", EMPTY, "unary"],
  ["CloneVolume", "CloneVolumeRequest", EMPTY, "unary"],
  ["GetVolumeAttachInfo", "VolumeIdRequest", "VolumeAttachInfoResponse", "unary"],
  ["CreateVolumeSnapshot", "CreateVolumeSnapshotRequest", EMPTY, "unary"],
  ["GetOVSStatus", EMPTY, "OVSStatusResponse", "unary"],
  ["ConfigureNetworkPort", "ConfigureNetworkPortRequest", "NetworkPortInfo", "unary"],
  ["DeleteNetworkPort", "DeleteNetworkPortRequest", EMPTY, "unary"],
  ["GetNetworkPortStatus", "GetNetworkPortStatusRequest", "NetworkPortInfo", "unary"],
  ["ListNetworkPorts", EMPTY, "ListNetworkPortsResponse", "unary"],
];

/** RPCs the daemon must serve: every one the CP calls (section 1.2), plus the node's own basics. */
export const REQUIRED_RPCS: readonly string[] = [
  // called by the control plane at HEAD
  "HealthCheck", "CreateVM", "StartVM", "StopVM", "ForceStopVM", "RebootVM", "PauseVM", "ResumeVM",
  "DeleteVM", "GetVMStatus", "GetConsole", "CreateSnapshot", "ListSnapshots", "RevertSnapshot",
  "DeleteSnapshot", "AttachDisk", "DetachDisk", "ResizeVolume", "AttachNIC", "DetachNIC",
  "ChangeMedia", "InitStoragePool", "ListStoragePoolFiles",
  // in the CP client without a caller yet
  "GetNodeInfo", "ListVMs", "StreamMetrics", "StreamEvents", "MigrateVM", "GetStoragePoolInfo",
  "ListStoragePools", "DestroyStoragePool", "CreateVolume", "DeleteVolume", "CloneVolume",
  "GetVolumeAttachInfo", "CreateVolumeSnapshot",
];

/** Contract section 2.2: every message, its fields as "<number> <name> <type>". */
export const CONTRACT_MESSAGES: Readonly<Record<string, readonly string[]>> = {
  // health / node info
  HealthCheckRequest: [],
  HealthCheckResponse: ["1 healthy bool", "2 version string", "3 hypervisor string",
    "4 hypervisor_version string", "5 uptime_seconds uint64"],
  NodeInfoResponse: ["1 node_id string", "2 hostname string", "3 management_ip string", "4 cpu CpuInfo",
    "5 memory MemoryInfo", "6 storage repeated StorageInfo", "7 network repeated NetworkInfo",
    "8 capabilities HypervisorCapabilities"],
  CpuInfo: ["1 model string", "2 sockets uint32", "3 cores_per_socket uint32", "4 threads_per_core uint32",
    "5 total_threads uint32", "6 frequency_mhz uint64", "7 features repeated string"],
  MemoryInfo: ["1 total_bytes uint64", "2 available_bytes uint64", "3 used_bytes uint64"],
  StorageInfo: ["1 device string", "2 mount_point string", "3 total_bytes uint64", "4 used_bytes uint64",
    "5 available_bytes uint64", "6 filesystem string"],
  NetworkInfo: ["1 name string", "2 mac_address string", "3 ip_addresses repeated string",
    "4 speed_mbps uint64", "5 up bool"],
  HypervisorCapabilities: ["1 name string", "2 version string", "3 supports_live_migration bool",
    "4 supports_snapshots bool", "5 supports_hotplug bool", "6 supports_gpu_passthrough bool",
    "7 supports_nested_virtualization bool", "8 max_vcpus uint32", "9 max_memory_bytes uint64"],

  // VM lifecycle
  VMIdRequest: ["1 vm_id string"],
  CreateVMOnNodeRequest: ["1 vm_id string", "2 name string", "3 spec VMSpec", "4 labels map<string, string>"],
  VMSpec: ["1 cpu_cores uint32", "2 cpu_sockets uint32", "3 cpu_threads_per_core uint32",
    "4 memory_mib uint64", "5 memory_hugepages bool", "6 firmware Firmware",
    "7 boot_order repeated BootDevice", "8 disks repeated DiskSpec", "9 nics repeated NicSpec",
    "10 cdroms repeated CdromSpec", "11 console ConsoleSpec", "12 cloud_init CloudInitConfig",
    "13 guest_os string"],
  CloudInitConfig: ["1 user_data string", "2 meta_data string", "3 network_config string", "4 vendor_data string"],
  DiskSpec: ["1 id string", "2 path string", "3 size_gib uint64", "4 bus DiskBus", "5 format DiskFormat",
    "6 readonly bool", "7 bootable bool", "8 iops_limit uint64", "9 throughput_mbps uint64",
    "10 backing_file string", "11 pool_id string"],
  NicSpec: ["1 id string", "2 mac_address string", "3 bridge string", "4 network string", "5 model NicModel",
    "6 bandwidth_mbps uint64"],
  CdromSpec: ["1 id string", "2 iso_path string", "3 bootable bool"],
  ConsoleSpec: ["1 vnc_enabled bool", "2 vnc_port uint32", "3 vnc_password string", "4 spice_enabled bool",
    "5 spice_port uint32"],
  CreateVMOnNodeResponse: ["1 vm_id string", "2 created bool", "3 message string"],
  StopVMRequest: ["1 vm_id string", "2 timeout_seconds uint32"],
  VMStatusResponse: ["1 vm_id string", "2 name string", "3 state PowerState", "4 resource_usage ResourceUsage",
    "5 started_at google.protobuf.Timestamp"],
  ResourceUsage: ["1 cpu_usage_percent double", "2 cpu_time_ns uint64", "3 memory_used_bytes uint64",
    "4 memory_total_bytes uint64", "5 disk_read_bytes uint64", "6 disk_write_bytes uint64",
    "7 network_rx_bytes uint64", "8 network_tx_bytes uint64"],
  ListVMsOnNodeResponse: ["1 vms repeated VMStatusResponse"],
  ConsoleInfoResponse: ["1 type string", "2 host string", "3 port uint32", "4 password string",
    "5 websocket_path string"],

  // snapshots
  CreateSnapshotRequest: ["1 vm_id string", "2 name string", "3 description string", "4 quiesce bool"],
  SnapshotResponse: ["1 snapshot_id string", "2 name string", "3 description string",
    "4 created_at google.protobuf.Timestamp", "5 vm_state PowerState", "6 parent_id string"],
  RevertSnapshotRequest: ["1 vm_id string", "2 snapshot_id string"],
  DeleteSnapshotRequest: ["1 vm_id string", "2 snapshot_id string"],
  ListSnapshotsResponse: ["1 snapshots repeated SnapshotResponse"],

  // hot-plug / media
  AttachDiskRequest: ["1 vm_id string", "2 disk DiskSpec"],
  DetachDiskRequest: ["1 vm_id string", "2 disk_id string"],
  AttachNICRequest: ["1 vm_id string", "2 nic NicSpec"],
  DetachNICRequest: ["1 vm_id string", "2 nic_id string"],
  ChangeMediaRequest: ["1 vm_id string", "2 device string", "3 iso_path string"],

  // migration
  PrepareMigrationRequest: ["1 vm_id string", "2 source_node_uri string"],
  MigrationToken: ["1 token string", "2 vm_id string", "3 expires_at google.protobuf.Timestamp"],
  MigrateVMRequest: ["1 vm_id string", "2 target_node_uri string", "3 live bool", "4 storage bool"],
  MigrationProgress: ["1 vm_id string", "2 percent_complete uint32", "3 data_transferred_bytes uint64",
    "4 data_remaining_bytes uint64", "5 phase MigrationPhase", "6 error string"],

  // metrics / events
  StreamMetricsRequest: ["1 interval_seconds uint32"],
  NodeMetrics: ["1 timestamp google.protobuf.Timestamp", "2 cpu_usage_percent double",
    "3 memory_used_bytes uint64", "4 memory_total_bytes uint64", "5 disks repeated DiskMetrics",
    "6 networks repeated NetworkMetrics", "7 vms repeated VMMetrics"],
  DiskMetrics: ["1 device string", "2 read_bytes uint64", "3 write_bytes uint64", "4 read_iops uint64",
    "5 write_iops uint64", "6 utilization_percent double"],
  NetworkMetrics: ["1 interface string", "2 rx_bytes uint64", "3 tx_bytes uint64", "4 rx_packets uint64",
    "5 tx_packets uint64", "6 rx_errors uint64", "7 tx_errors uint64"],
  VMMetrics: ["1 vm_id string", "2 name string", "3 cpu_usage_percent double", "4 memory_used_bytes uint64",
    "5 disk_read_bytes uint64", "6 disk_write_bytes uint64", "7 network_rx_bytes uint64",
    "8 network_tx_bytes uint64"],
  NodeEvent: ["1 id string", "2 timestamp google.protobuf.Timestamp", "3 type EventType", "4 vm_id string",
    "5 message string", "6 metadata map<string, string>"],

  // image download (gRPC flavour)
  DownloadImageOnNodeRequest: ["1 job_id string", "2 image_id string", "3 url string", "4 target_dir string",
    "5 filename string", "6 checksum string", "7 checksum_type string"],
  DownloadProgress: ["1 job_id string", "2 image_id string", "3 status DownloadProgress.Status",
    "4 progress_percent uint32", "5 bytes_downloaded uint64", "6 bytes_total uint64",
    "7 download_speed uint64", "8 eta_seconds uint32", "9 path string", "10 error string"],
  GetDownloadStatusRequest: ["1 job_id string"],
  CancelDownloadRequest: ["1 job_id string"],

  // storage pools
  InitStoragePoolRequest: ["1 pool_id string", "2 type StoragePoolType", "3 config StoragePoolConfig"],
  StoragePoolConfig: ["1 local LocalDirPoolConfig", "2 nfs NfsPoolConfig", "3 ceph CephPoolConfig",
    "4 iscsi IscsiPoolConfig"],
  LocalDirPoolConfig: ["1 path string", "2 capacity_gib optional uint64"],
  NfsPoolConfig: ["1 server string", "2 export_path string", "3 version string", "4 options string",
    "5 mount_point string"],
  CephPoolConfig: ["1 cluster_id string", "2 pool_name string", "3 monitors repeated string", "4 user string",
    "5 keyring_path string", "6 namespace string", "7 secret_uuid string"],
  IscsiPoolConfig: ["1 portal string", "2 target string", "3 chap_enabled bool", "4 chap_user string",
    "5 chap_password string", "6 lun uint32", "7 volume_group string"],
  StoragePoolIdRequest: ["1 pool_id string"],
  StoragePoolInfoResponse: ["1 pool_id string", "2 type StoragePoolType", "3 mount_path string",
    "4 device_path string", "5 rbd_pool string", "6 total_bytes uint64", "7 available_bytes uint64",
    "8 used_bytes uint64", "9 volume_count uint32"],
  ListStoragePoolsResponse: ["1 pools repeated StoragePoolInfoResponse"],
  ListStoragePoolFilesRequest: ["1 pool_id string", "2 path string"],
  ListStoragePoolFilesResponse: ["1 entries repeated StoragePoolFileEntry", "2 current_path string"],
  StoragePoolFileEntry: ["1 name string", "2 path string", "3 is_directory bool", "4 size_bytes uint64",
    "5 modified_at string", "6 file_type string", "7 permissions string"],

  // volumes
  VolumeIdRequest: ["1 pool_id string", "2 volume_id string"],
  CreateVolumeRequest: ["1 pool_id string", "2 volume_id string", "3 size_bytes uint64",
    "4 source_type VolumeSourceType", "5 source_id string"],
  ResizeVolumeRequest: ["1 pool_id string", "2 volume_id string", "3 new_size_bytes uint64"],
  CloneVolumeRequest: ["1 pool_id string", "2 source_volume_id string", "3 dest_volume_id string"],
  VolumeAttachInfoResponse: ["1 volume_id string", "2 path string", "3 disk_xml string"],
  CreateVolumeSnapshotRequest: ["1 pool_id string", "2 volume_id string", "3 snapshot_id string"],

  // OVS / OVN network ports
  OVSStatusResponse: ["1 available bool", "2 ovs_version string", "3 ovn_controller_connected bool",
    "4 integration_bridge string", "5 encap_type string", "6 encap_ip string", "7 chassis_id string"],
  ConfigureNetworkPortRequest: ["1 port_id string", "2 vm_id string", "3 network_id string",
    "4 mac_address string", "5 ip_addresses repeated string", "6 ovn_port_name string",
    "7 binding_type NetworkPortBindingType", "8 qos NetworkPortQoS", "9 port_security_enabled bool",
    "10 security_group_ids repeated string"],
  NetworkPortQoS: ["1 ingress_rate_kbps uint64", "2 egress_rate_kbps uint64", "3 ingress_burst_kb uint64",
    "4 egress_burst_kb uint64"],
  NetworkPortInfo: ["1 port_id string", "2 vm_id string", "3 network_id string", "4 mac_address string",
    "5 ip_addresses repeated string", "6 phase NetworkPortPhase", "7 error_message string",
    "8 ovs_port_name string", "9 ovn_port_name string", "10 interface_xml string", "11 rx_bytes uint64",
    "12 tx_bytes uint64", "13 rx_packets uint64", "14 tx_packets uint64"],
  DeleteNetworkPortRequest: ["1 port_id string", "2 vm_id string"],
  GetNetworkPortStatusRequest: ["1 port_id string"],
  ListNetworkPortsResponse: ["1 ports repeated NetworkPortInfo"],
};

/** Contract section 2.3: every enum, its values in number order (value i has number i). */
export const CONTRACT_ENUMS: Readonly<Record<string, readonly string[]>> = {
  Firmware: ["FIRMWARE_BIOS 0", "FIRMWARE_UEFI 1"],
  BootDevice: ["BOOT_DEVICE_DISK 0", "BOOT_DEVICE_CDROM 1", "BOOT_DEVICE_NETWORK 2"],
  DiskBus: ["DISK_BUS_VIRTIO 0", "DISK_BUS_SCSI 1", "DISK_BUS_SATA 2", "DISK_BUS_IDE 3"],
  DiskFormat: ["DISK_FORMAT_QCOW2 0", "DISK_FORMAT_RAW 1"],
  NicModel: ["NIC_MODEL_VIRTIO 0", "NIC_MODEL_E1000 1", "NIC_MODEL_RTL8139 2"],
  PowerState: ["POWER_STATE_UNKNOWN 0", "POWER_STATE_RUNNING 1", "POWER_STATE_STOPPED 2", "POWER_STATE_PAUSED 3",
    "POWER_STATE_SUSPENDED 4", "POWER_STATE_CRASHED 5"],
  MigrationPhase: ["MIGRATION_PHASE_PREPARING 0", "MIGRATION_PHASE_TRANSFERRING 1", "MIGRATION_PHASE_SWITCHING 2",
    "MIGRATION_PHASE_COMPLETE 3", "MIGRATION_PHASE_FAILED 4"],
  EventType: ["EVENT_TYPE_UNKNOWN 0", "EVENT_TYPE_VM_STARTED 1", "EVENT_TYPE_VM_STOPPED 2", "EVENT_TYPE_VM_PAUSED 3",
    "EVENT_TYPE_VM_RESUMED 4", "EVENT_TYPE_VM_CRASHED 5", "EVENT_TYPE_VM_REBOOTED 6", "EVENT_TYPE_VM_MIGRATED_OUT 7",
    "EVENT_TYPE_VM_MIGRATED_IN 8", "EVENT_TYPE_SNAPSHOT_CREATED 9", "EVENT_TYPE_SNAPSHOT_REVERTED 10",
    "EVENT_TYPE_SNAPSHOT_DELETED 11", "EVENT_TYPE_DISK_ATTACHED 12", "EVENT_TYPE_DISK_DETACHED 13",
    "EVENT_TYPE_NIC_ATTACHED 14", "EVENT_TYPE_NIC_DETACHED 15", "EVENT_TYPE_NODE_OVERLOADED 16",
    "EVENT_TYPE_NODE_RECOVERED 17"],
  "DownloadProgress.Status": ["STATUS_UNKNOWN 0", "STATUS_PENDING 1", "STATUS_DOWNLOADING 2", "STATUS_VERIFYING 3",
    "STATUS_CONVERTING 4", "STATUS_COMPLETED 5", "STATUS_FAILED 6", "STATUS_CANCELLED 7"],
  StoragePoolType: ["STORAGE_POOL_TYPE_UNSPECIFIED 0", "STORAGE_POOL_TYPE_LOCAL_DIR 1",
    "STORAGE_POOL_TYPE_LOCAL_LVM 2", "STORAGE_POOL_TYPE_NFS 3", "STORAGE_POOL_TYPE_CEPH_RBD 4",
    "STORAGE_POOL_TYPE_CEPH_FS 5", "STORAGE_POOL_TYPE_ISCSI 6"],
  VolumeSourceType: ["VOLUME_SOURCE_EMPTY 0", "VOLUME_SOURCE_CLONE 1", "VOLUME_SOURCE_IMAGE 2",
    "VOLUME_SOURCE_SNAPSHOT 3"],
  NetworkPortBindingType: ["NETWORK_PORT_BINDING_NORMAL 0", "NETWORK_PORT_BINDING_DIRECT 1",
    "NETWORK_PORT_BINDING_MACVTAP 2", "NETWORK_PORT_BINDING_VHOST_USER 3"],
  NetworkPortPhase: ["NETWORK_PORT_PHASE_UNKNOWN 0", "NETWORK_PORT_PHASE_PENDING 1", "NETWORK_PORT_PHASE_BUILDING 2",
    "NETWORK_PORT_PHASE_ACTIVE 3", "NETWORK_PORT_PHASE_DOWN 4", "NETWORK_PORT_PHASE_ERROR 5"],
};
