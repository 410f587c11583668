// Just enough of libvirt through bun:ffi to let libvirt itself judge our XML: the test driver
// (test:///default, package libvirt0) parses, schema-validates and re-serialises domains exactly
// like libvirtd's generic code. Not the backend's bindings: those live in src/hypervisor/libvirt.

import { CString, dlopen, JSCallback, type Pointer } from "bun:ffi";

const SYMBOLS = {
  virConnectOpen: { args: ["ptr"], returns: "ptr" },
  virConnectClose: { args: ["ptr"], returns: "i32" },
  virConnectGetCapabilities: { args: ["ptr"], returns: "ptr" },
  virGetLastErrorMessage: { args: [], returns: "cstring" },
  virSetErrorFunc: { args: ["ptr", "ptr"], returns: "void" },
  virDomainDefineXMLFlags: { args: ["ptr", "ptr", "u32"], returns: "ptr" },
  virDomainGetXMLDesc: { args: ["ptr", "u32"], returns: "ptr" },
  virDomainCreate: { args: ["ptr"], returns: "i32" },
  virDomainDestroy: { args: ["ptr"], returns: "i32" },
  virDomainUndefine: { args: ["ptr"], returns: "i32" },
  virDomainFree: { args: ["ptr"], returns: "i32" },
  virDomainSnapshotCreateXML: { args: ["ptr", "ptr", "u32"], returns: "ptr" },
  virDomainSnapshotGetXMLDesc: { args: ["ptr", "u32"], returns: "ptr" },
  virDomainSnapshotFree: { args: ["ptr"], returns: "i32" },
  virDomainSetMetadata: { args: ["ptr", "i32", "ptr", "ptr", "ptr", "u32"], returns: "i32" },
} as const;

export const XML_SECURE = 1;
export const XML_INACTIVE = 2;
export const DEFINE_VALIDATE = 1;

function open() {
  try {
    const lv = dlopen("libvirt.so.0", SYMBOLS);
    const libc = dlopen("libc.so.6", { free: { args: ["ptr"], returns: "void" } });
    return { lv: lv.symbols, free: libc.symbols.free };
  } catch {
    return undefined;
  }
}

const libs = open();
export const libvirtAvailable = libs !== undefined;

const cstr = (s: string) => Buffer.from(`${s}\0`);
// bun-types allow a pointer return to be a bigint; on x64 Linux it is a number or null.
const asPtr = (p: Pointer | bigint | null): Pointer | null => (typeof p === "bigint" ? (Number(p) as Pointer) : p);

export interface TestDriver {
  capabilities(): string;
  /** Define (schema-validated); returns the domain handle or throws libvirt's message. */
  define(xml: string): Pointer;
  xml(dom: Pointer, flags: number): string;
  start(dom: Pointer): void;
  snapshot(dom: Pointer, xml: string): string;
  /** virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT) on the persistent config (and live when running). */
  setMetadata(dom: Pointer, xml: string, prefix: string, uri: string, flags: number): void;
  remove(dom: Pointer): void;
  close(): void;
}

export function openTestDriver(): TestDriver {
  if (!libs) throw new Error("libvirt.so.0 not found: install the Debian package libvirt0");
  const { lv, free } = libs;
  // Keep libvirt from printing every expected error to stderr.
  const quiet = new JSCallback(() => {}, { args: ["ptr", "ptr"], returns: "void" });
  lv.virSetErrorFunc(null, quiet.ptr);
  const fail = (what: string): never => {
    throw new Error(`${what}: ${lv.virGetLastErrorMessage()}`);
  };
  const take = (p: Pointer | null, what: string): string => {
    if (!p) return fail(what);
    const s = new CString(p).toString();
    free(p);
    return s;
  };
  const conn = asPtr(lv.virConnectOpen(cstr("test:///default"))) ?? fail("virConnectOpen");
  return {
    capabilities: () => take(asPtr(lv.virConnectGetCapabilities(conn)), "virConnectGetCapabilities"),
    define: (xml) => asPtr(lv.virDomainDefineXMLFlags(conn, cstr(xml), DEFINE_VALIDATE)) ?? fail("virDomainDefineXMLFlags"),
    xml: (dom, flags) => take(asPtr(lv.virDomainGetXMLDesc(dom, flags)), "virDomainGetXMLDesc"),
    start: (dom) => {
      if (lv.virDomainCreate(dom) < 0) fail("virDomainCreate");
    },
    snapshot: (dom, xml) => {
      const snap = asPtr(lv.virDomainSnapshotCreateXML(dom, cstr(xml), 0)) ?? fail("virDomainSnapshotCreateXML");
      try {
        return take(asPtr(lv.virDomainSnapshotGetXMLDesc(snap, 0)), "virDomainSnapshotGetXMLDesc");
      } finally {
        lv.virDomainSnapshotFree(snap);
      }
    },
    setMetadata: (dom, xml, prefix, uri, flags) => {
      if (lv.virDomainSetMetadata(dom, 2, cstr(xml), cstr(prefix), cstr(uri), flags) < 0) fail("virDomainSetMetadata");
    },
    remove: (dom) => {
      lv.virDomainDestroy(dom); // fails harmlessly when not running
      lv.virDomainUndefine(dom);
      lv.virDomainFree(dom);
    },
    close: () => {
      lv.virConnectClose(conn);
      lv.virSetErrorFunc(null, null);
      quiet.close();
    },
  };
}
