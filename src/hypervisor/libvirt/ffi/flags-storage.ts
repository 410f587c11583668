// Storage flag values (libvirt-storage.h), in a module without bun:ffi so the API thread can
// use them without touching the binding.

/** virConnectListAllStoragePoolsFlags */
export const LIST_POOLS = { DIR: 64, NETFS: 256, LOGICAL: 512, ISCSI: 2048, RBD: 16384 } as const;
/** The pool types this node defines (and so lists). */
export const OUR_POOL_TYPES = LIST_POOLS.DIR | LIST_POOLS.NETFS | LIST_POOLS.LOGICAL | LIST_POOLS.ISCSI | LIST_POOLS.RBD;
/** virStorageVolType */
export const VOL_TYPE = { FILE: 0, BLOCK: 1, DIR: 2, NETWORK: 3, NETDIR: 4, PLOOP: 5 } as const;
/** virStoragePoolState */
export const POOL_STATE = { INACTIVE: 0, BUILDING: 1, RUNNING: 2, DEGRADED: 3, INACCESSIBLE: 4 } as const;
/** virStoragePoolXMLFlags */
export const POOL_XML = { INACTIVE: 1 } as const;
