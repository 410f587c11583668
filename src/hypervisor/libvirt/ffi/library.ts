// The one place that dlopens libvirt. Each thread (main or Worker) that calls libvirt loads its
// own handle; the symbols are declared once here so every wrapper agrees on the C signatures
// (libvirt 9.x headers: libvirt-domain.h, libvirt-host.h, libvirt-storage.h, virterror.h).

import { dlopen, type FFIFunction, type Pointer } from "bun:ffi";
import { HypervisorError } from "../../errors.ts";

const P = "ptr";
const I = "i32";
const U = "u32";

const symbols = {
  // errors
  virGetLastError: { args: [], returns: P },
  virResetLastError: { args: [], returns: "void" },
  virSetErrorFunc: { args: [P, P], returns: "void" },
  // connection
  virConnectOpen: { args: [P], returns: P },
  virConnectClose: { args: [P], returns: I },
  virConnectSetKeepAlive: { args: [P, I, U], returns: I },
  virConnectIsAlive: { args: [P], returns: I },
  virConnectGetVersion: { args: [P, P], returns: I },
  virConnectGetLibVersion: { args: [P, P], returns: I },
  virConnectGetType: { args: [P], returns: P },
  virConnectGetURI: { args: [P], returns: P },
  virConnectGetHostname: { args: [P], returns: P },
  virConnectGetCapabilities: { args: [P], returns: P },
  virConnectGetDomainCapabilities: { args: [P, P, P, P, P, U], returns: P },
  virConnectGetMaxVcpus: { args: [P, P], returns: I },
  virNodeGetInfo: { args: [P, P], returns: I },
  virConnectRegisterCloseCallback: { args: [P, P, P, P], returns: I },
  virConnectUnregisterCloseCallback: { args: [P, P], returns: I },
  virConnectListAllDomains: { args: [P, P, U], returns: I },
  virConnectGetAllDomainStats: { args: [P, U, P, U], returns: I },
  virDomainListGetStats: { args: [P, U, P, U], returns: I },
  virDomainStatsRecordListFree: { args: [P], returns: "void" },
  // domains
  virDomainLookupByUUIDString: { args: [P, P], returns: P },
  virDomainLookupByName: { args: [P, P], returns: P },
  virDomainDefineXMLFlags: { args: [P, P, U], returns: P },
  virDomainCreate: { args: [P], returns: I },
  virDomainShutdown: { args: [P], returns: I },
  virDomainDestroy: { args: [P], returns: I },
  virDomainReboot: { args: [P, U], returns: I },
  virDomainSuspend: { args: [P], returns: I },
  virDomainResume: { args: [P], returns: I },
  virDomainPMWakeup: { args: [P, U], returns: I },
  virDomainUndefineFlags: { args: [P, U], returns: I },
  virDomainGetState: { args: [P, P, P, U], returns: I },
  virDomainGetInfo: { args: [P, P], returns: I },
  virDomainGetID: { args: [P], returns: U },
  virDomainGetXMLDesc: { args: [P, U], returns: P },
  virDomainGetUUIDString: { args: [P, P], returns: I },
  virDomainGetName: { args: [P], returns: P },
  virDomainFree: { args: [P], returns: I },
  virDomainAttachDeviceFlags: { args: [P, P, U], returns: I },
  virDomainDetachDeviceFlags: { args: [P, P, U], returns: I },
  virDomainUpdateDeviceFlags: { args: [P, P, U], returns: I },
  virDomainSetMetadata: { args: [P, I, P, P, P, U], returns: I },
  virDomainBlockResize: { args: [P, P, "u64", U], returns: I },
  virDomainMigrateToURI3: { args: [P, P, P, U, U], returns: I },
  virDomainMigrateSetMaxDowntime: { args: [P, "u64", U], returns: I },
  virDomainGetJobStats: { args: [P, P, P, P, U], returns: I },
  virDomainAbortJob: { args: [P], returns: I },
  virDomainFSFreeze: { args: [P, P, U, U], returns: I },
  virDomainFSThaw: { args: [P, P, U, U], returns: I },
  virTypedParamsFree: { args: [P, I], returns: "void" },
  virTypedParamsAddULLong: { args: [P, P, P, P, "u64"], returns: I },
  virTypedParamsAddString: { args: [P, P, P, P, P], returns: I },
  // snapshots
  virDomainSnapshotCreateXML: { args: [P, P, U], returns: P },
  virDomainSnapshotLookupByName: { args: [P, P, U], returns: P },
  virDomainListAllSnapshots: { args: [P, P, U], returns: I },
  virDomainRevertToSnapshot: { args: [P, U], returns: I },
  virDomainSnapshotDelete: { args: [P, U], returns: I },
  virDomainSnapshotGetXMLDesc: { args: [P, U], returns: P },
  virDomainSnapshotGetName: { args: [P], returns: P },
  virDomainSnapshotIsCurrent: { args: [P, U], returns: I },
  virDomainSnapshotNum: { args: [P, U], returns: I },
  virDomainHasCurrentSnapshot: { args: [P, U], returns: I },
  virDomainSnapshotCurrent: { args: [P, U], returns: P },
  virDomainSnapshotFree: { args: [P], returns: I },
  // storage
  virStoragePoolLookupByName: { args: [P, P], returns: P },
  virStoragePoolLookupByTargetPath: { args: [P, P], returns: P },
  virStoragePoolLookupByUUIDString: { args: [P, P], returns: P },
  virConnectListAllStoragePools: { args: [P, P, U], returns: I },
  virStoragePoolGetName: { args: [P], returns: P },
  virStoragePoolGetUUIDString: { args: [P, P], returns: I },
  virStoragePoolGetInfo: { args: [P, P], returns: I },
  virStoragePoolGetXMLDesc: { args: [P, U], returns: P },
  virStoragePoolGetAutostart: { args: [P, P], returns: I },
  virStoragePoolIsPersistent: { args: [P], returns: I },
  virStoragePoolNumOfVolumes: { args: [P], returns: I },
  virStoragePoolDestroy: { args: [P], returns: I },
  virStoragePoolUndefine: { args: [P], returns: I },
  virStoragePoolDefineXML: { args: [P, P, U], returns: P },
  virStoragePoolBuild: { args: [P, U], returns: I },
  virStoragePoolCreate: { args: [P, U], returns: I },
  virStoragePoolRefresh: { args: [P, U], returns: I },
  virStoragePoolIsActive: { args: [P], returns: I },
  virStoragePoolSetAutostart: { args: [P, I], returns: I },
  virStoragePoolFree: { args: [P], returns: I },
  virStorageVolCreateXML: { args: [P, P, U], returns: P },
  virStorageVolLookupByPath: { args: [P, P], returns: P },
  virStorageVolLookupByName: { args: [P, P], returns: P },
  virStorageVolGetInfo: { args: [P, P], returns: I },
  virStorageVolResize: { args: [P, "u64", U], returns: I },
  virStorageVolGetPath: { args: [P], returns: P },
  virStorageVolDelete: { args: [P, U], returns: I },
  virStorageVolFree: { args: [P], returns: I },
  virStorageVolCreateXMLFrom: { args: [P, P, P, U], returns: P },
  virStorageVolGetXMLDesc: { args: [P, U], returns: P },
  virStorageVolGetName: { args: [P], returns: P },
  virStoragePoolListAllVolumes: { args: [P, P, U], returns: I },
  virStoragePoolDelete: { args: [P, U], returns: I },
  // secrets (Ceph keys, iSCSI CHAP passwords)
  virSecretDefineXML: { args: [P, P, U], returns: P },
  virSecretLookupByUUIDString: { args: [P, P], returns: P },
  virSecretSetValue: { args: [P, P, "u64", U], returns: I },
  virSecretUndefine: { args: [P], returns: I },
  virSecretFree: { args: [P], returns: I },
  // events
  virEventRegisterDefaultImpl: { args: [], returns: I },
  virEventRunDefaultImpl: { args: [], returns: I },
  virEventAddTimeout: { args: [I, P, P, P], returns: I },
  virEventRemoveTimeout: { args: [I], returns: I },
  virEventUpdateTimeout: { args: [I, I], returns: "void" },
  virEventAddHandle: { args: [I, I, P, P, P], returns: I },
  virEventRemoveHandle: { args: [I], returns: I },
  virConnectDomainEventRegisterAny: { args: [P, P, I, P, P, P], returns: I },
  virConnectDomainEventDeregisterAny: { args: [P, I], returns: I },
} as const satisfies Record<string, FFIFunction>;

const libcSymbols = {
  free: { args: [P], returns: "void" },
  memcpy: { args: [P, P, "u64"], returns: P },
} as const satisfies Record<string, FFIFunction>;

type Opened = ReturnType<typeof dlopen<typeof symbols>>;
export type LibvirtSymbols = Opened["symbols"];

export interface Libvirt {
  readonly sym: LibvirtSymbols;
  /** libc free(), for every char* libvirt hands over. */
  readonly free: (p: Pointer | null) => void;
  /** libc memcpy of length bytes at source (libvirt's memory) into target; longer than target throws. */
  readonly copyInto: (target: Uint8Array, source: Pointer, length: number) => void;
}

/** Names tried in order: the runtime package ships only the soname. */
export const LIBVIRT_NAMES = ["libvirt.so.0", "libvirt.so"] as const;

let loaded: Libvirt | undefined;

/** Loads libvirt once per thread. Throws an "unavailable" HypervisorError saying what to install. */
export function loadLibvirt(): Libvirt {
  loaded ??= openLibvirtFrom(LIBVIRT_NAMES);
  return loaded;
}

/** Uncached; the first name that loads wins. */
export function openLibvirtFrom(names: readonly string[]): Libvirt {
  const failures: string[] = [];
  for (const name of names) {
    try {
      const lib = dlopen(name, symbols);
      const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", libcSymbols);
      // Bun gives every dlopen'd symbol its address as .ptr (missing from the typings).
      const freePtr = (libc.symbols.free as unknown as { ptr: Pointer }).ptr;
      // libvirt prints every error to stderr unless a handler is set. free(NULL, err) is a
      // no-op with the right C signature, callable from any thread (a JSCallback would not be):
      // the error itself stays readable through virGetLastError.
      lib.symbols.virSetErrorFunc(null, freePtr);
      return {
        sym: lib.symbols,
        free: (p) => libc.symbols.free(p),
        copyInto(target, source, length) {
          if (length > target.byteLength) throw new RangeError(`cannot copy ${length} bytes into a buffer of ${target.byteLength}`);
          libc.symbols.memcpy(target, source, length);
        },
      };
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new HypervisorError(
    "unavailable",
    `cannot load libvirt (${failures.join("; ")}); install the libvirt client library ` +
      `(Debian/Ubuntu: apt-get install libvirt0, Fedora/RHEL: dnf install libvirt-libs) or run with the mock backend (--dev)`,
  );
}
