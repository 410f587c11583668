// The backend's parse cache: one entry per domain, reused while the domain's XML is the same
// text, parsed again when it changed, dropped when the domain is undefined or a full listing no
// longer has it. Each caller gets its own copy.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDomainXmlFresh } from "../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { createParseCache } from "../../../src/hypervisor/libvirt/parse-cache.ts";

const XML = readFileSync(join(import.meta.dir, "domain-xml/fixtures/virsh-dumpxml-running-vnc.xml"), "utf8");

function counting() {
  let calls = 0;
  const cache = createParseCache((xml) => {
    calls++;
    return parseDomainXmlFresh(xml);
  });
  return { cache, calls: () => calls };
}

describe("the backend's parse cache", () => {
  test("the same text of the same domain is parsed once; a changed text again", () => {
    const { cache, calls } = counting();
    const a = cache.parse("d1", XML);
    expect(cache.parse("d1", XML)).toEqual(a);
    expect(calls()).toBe(1);
    const renamed = XML.replace(/<name>[^<]*<\/name>/, "<name>renamed</name>");
    expect(cache.parse("d1", renamed).name).toBe("renamed");
    expect(calls()).toBe(2);
    expect(cache.size).toBe(1);
  });

  test("holds every domain of a host larger than any fixed bound: 1,000 domains, each parsed once", () => {
    const { cache, calls } = counting();
    for (let round = 0; round < 2; round++) for (let i = 0; i < 1000; i++) cache.parse(`d${i}`, XML);
    expect({ size: cache.size, calls: calls() }).toEqual({ size: 1000, calls: 1000 });
  });

  test("forget and a listing without a domain drop it", () => {
    const { cache, calls } = counting();
    for (const id of ["a", "b", "c"]) cache.parse(id, XML);
    cache.forget("a");
    cache.retainOnly(new Set(["c"]));
    expect(cache.size).toBe(1);
    cache.parse("b", XML);
    expect(calls()).toBe(4);
  });

  test("every caller gets its own copy", () => {
    const { cache } = counting();
    const mine = cache.parse("d1", XML);
    mine.spec.labels.changed = "yes";
    expect(cache.parse("d1", XML).spec.labels.changed).toBeUndefined();
  });

  test("XML that cannot be read throws and leaves nothing behind", () => {
    const { cache } = counting();
    expect(() => cache.parse("bad", "<domain>")).toThrow();
    expect(cache.size).toBe(0);
  });
});
