// <domainsnapshot> documents: what we ask virDomainSnapshotCreateXML for, and what
// virDomainSnapshotGetXMLDesc returns (with <parent>, <state>, <creationTime>, <memory>).

import type { VmState } from "../../types.ts";
import { HypervisorError } from "../../errors.ts";
import { attr, child, el, intOf, parseXml, serializeXml, textOf } from "./xml-tree.ts";

export interface SnapshotXmlOptions {
  name: string;
  description?: string;
  includeMemory: boolean;
  /** Guest disk names to snapshot internally; libvirt's default (all) when absent. */
  diskTargets?: string[];
}

export function buildSnapshotXml(opts: SnapshotXmlOptions): string {
  return serializeXml(
    el("domainsnapshot", {}, [
      el("name", {}, opts.name),
      opts.description !== undefined && el("description", {}, opts.description),
      el("memory", { snapshot: opts.includeMemory ? "internal" : "no" }),
      opts.diskTargets &&
        el(
          "disks",
          {},
          opts.diskTargets.map((name) => el("disk", { name, snapshot: "internal" })),
        ),
    ]),
  );
}

export interface ParsedSnapshot {
  name: string;
  description: string;
  createdAt: Date;
  parent?: string;
  state: VmState;
  hasMemory: boolean;
}

// libvirt's domain state names as the snapshot <state> element writes them. "disk-snapshot" is a
// running VM captured without memory: reverting to it gives a stopped VM.
const SNAPSHOT_STATES: Record<string, VmState> = {
  running: "running",
  blocked: "running",
  paused: "paused",
  shutdown: "shutting_down",
  shutoff: "stopped",
  crashed: "crashed",
  pmsuspended: "suspended",
  "disk-snapshot": "stopped",
  nostate: "stopped",
};

export function parseSnapshotXml(xml: string): ParsedSnapshot {
  const root = parseXml(xml, "snapshot XML");
  if (root.local !== "domainsnapshot") {
    throw new HypervisorError("internal", `snapshot XML: root element is <${root.name}>, expected <domainsnapshot>`);
  }
  const nameNode = child(root, "name");
  const stateText = textOf(child(root, "state")) ?? "";
  const state = SNAPSHOT_STATES[stateText];
  const seconds = intOf(textOf(child(root, "creationTime")), "snapshot <creationTime>");
  if (nameNode === undefined || state === undefined || seconds === undefined) {
    throw new HypervisorError("internal", `snapshot XML: needs <name>, a known <state> and <creationTime> (state ${JSON.stringify(stateText)})`);
  }
  const memory = attr(child(root, "memory"), "snapshot");
  const out: ParsedSnapshot = {
    name: nameNode.text,
    description: child(root, "description")?.text ?? "",
    createdAt: new Date(seconds * 1000),
    state,
    // Old libvirt omits <memory>: then a snapshot of a live VM always had its memory.
    hasMemory: memory === undefined ? state === "running" || state === "paused" : memory !== "no",
  };
  const parent = child(child(root, "parent"), "name");
  if (parent) out.parent = parent.text;
  return out;
}
