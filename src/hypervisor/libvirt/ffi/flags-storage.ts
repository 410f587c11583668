// Storage flag values (libvirt-storage.h), in a module without bun:ffi so the API thread can
// use them without touching the binding.

/** virConnectListAllStoragePoolsFlags */
export const LIST_POOLS = { DIR: 64 } as const;
/** virStoragePoolState */
export const POOL_STATE = { INACTIVE: 0, BUILDING: 1, RUNNING: 2, DEGRADED: 3, INACCESSIBLE: 4 } as const;
/** virStoragePoolXMLFlags */
export const POOL_XML = { INACTIVE: 1 } as const;
