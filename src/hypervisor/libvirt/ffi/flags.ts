// libvirt flag values (libvirt-domain.h, libvirt-domain-snapshot.h), in a module without
// bun:ffi so the API thread can use them without touching the binding.

export const DOMAIN_XML = { SECURE: 1, INACTIVE: 2 } as const;
export const AFFECT = { CURRENT: 0, LIVE: 1, CONFIG: 2 } as const;
/** virDomainDeviceModifyFlags: FORCE ejects a CD-ROM even when the guest locked the tray. */
export const DEVICE_MODIFY = { FORCE: 4 } as const;
/** virDomainBlockResizeFlags: the size is in bytes (else KiB). */
export const BLOCK_RESIZE = { BYTES: 1 } as const;
export const UNDEFINE = { MANAGED_SAVE: 1, SNAPSHOTS_METADATA: 2, NVRAM: 4, CHECKPOINTS_METADATA: 16 } as const;
export const MIGRATE = {
  LIVE: 1,
  PEER2PEER: 2,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  NON_SHARED_DISK: 64,
  OFFLINE: 1024,
  ABORT_ON_ERROR: 4096,
} as const;
/** virDomainJobType */
export const JOB_TYPE = { NONE: 0, BOUNDED: 1, UNBOUNDED: 2, COMPLETED: 3, FAILED: 4, CANCELLED: 5 } as const;

/** libvirt's version encoding: major * 1,000,000 + minor * 1,000 + release. */
export function formatVersion(v: number): string {
  return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
}
