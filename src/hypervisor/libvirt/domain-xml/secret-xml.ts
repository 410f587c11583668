// libvirt secret XML (virSecretDefineXML): the Ceph key of an rbd pool, the CHAP password of an
// iSCSI pool. Only the definition goes through XML; the value itself is set with
// virSecretSetValue and never appears in any XML, log or answer. Private: libvirt will not hand
// the value back through its API.

import { HypervisorError } from "../../errors.ts";
import { attr, child, el, parseXml, serializeXml, textOf } from "./xml-tree.ts";

export type SecretUsage = { type: "ceph"; name: string } | { type: "iscsi"; target: string };

export interface SecretXmlOptions {
  uuid: string;
  description: string;
  usage: SecretUsage;
}

export function buildSecretXml(opts: SecretXmlOptions): string {
  const usage = opts.usage.type === "ceph" ? el("name", {}, opts.usage.name) : el("target", {}, opts.usage.target);
  return serializeXml(
    el("secret", { ephemeral: "no", private: "yes" }, [
      el("uuid", {}, opts.uuid),
      el("description", {}, opts.description),
      el("usage", { type: opts.usage.type }, [usage]),
    ]),
  );
}

export function parseSecretXml(xml: string): SecretXmlOptions {
  const root = parseXml(xml, "secret XML");
  if (root.local !== "secret") throw new HypervisorError("internal", `secret XML: root element is <${root.name}>, not <secret>`);
  const uuid = textOf(child(root, "uuid")) ?? "";
  const usage = child(root, "usage");
  const type = attr(usage, "type");
  const parsed: SecretUsage =
    type === "iscsi" ? { type: "iscsi", target: textOf(child(usage, "target")) ?? "" } : { type: "ceph", name: textOf(child(usage, "name")) ?? "" };
  return { uuid, description: textOf(child(root, "description")) ?? "", usage: parsed };
}

/** The base64 key of a Ceph keyring file's `key = ...` line (the first section's); undefined when none. */
export function keyringKey(text: string): string | undefined {
  for (const raw of text.split("\n")) {
    const m = /^\s*key\s*=\s*([A-Za-z0-9+/=]+)\s*$/.exec(raw);
    if (m) return m[1];
  }
  return undefined;
}
