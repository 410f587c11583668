// Pool XML of every type the node defines, built from the control plane's own InitStoragePool
// vectors (NFS, Ceph RBD, iSCSI with and without a volume group) and the secret XML beside them:
// golden files, libvirt's own parser (test:///default defines each and answers the same model
// back), and hostile strings. Regenerate with UPDATE_GOLDEN=1 and read the diff.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ffi from "../../../../src/hypervisor/libvirt/ffi/index.ts";
import { buildPoolXml, parsePoolXml, poolModelOf, type PoolXmlModel } from "../../../../src/hypervisor/libvirt/domain-xml/pool-xml.ts";
import { buildSecretXml, keyringKey, parseSecretXml } from "../../../../src/hypervisor/libvirt/domain-xml/secret-xml.ts";
import { buildVolumeDiskXml } from "../../../../src/hypervisor/libvirt/domain-xml/volume-disk-xml.ts";
import { poolWishes, secretUuidOf } from "../../../../src/hypervisor/libvirt/pool-rules.ts";
import { poolDefinitionFromWire } from "../../../../src/server/convert/storage.ts";
import { InitStoragePoolRequestSchema } from "../../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { bytesOf, vector } from "../../../contract/cp-vectors.ts";

const GOLDEN = join(import.meta.dir, "golden-pool");
const update = process.env.UPDATE_GOLDEN === "1";
const folders = { poolsDir: "/var/lib/limiquantix/pools", mountsDir: "/var/lib/limiquantix/mnt" };

/** The control plane's request for a pool type, as the node reads it. */
const fromVector = (note: string) => poolDefinitionFromWire(fromBinary(InitStoragePoolRequestSchema, bytesOf(vector("InitStoragePool", note))), folders);

const golden = (name: string, xml: string) => {
  const file = join(GOLDEN, `${name}.xml`);
  if (update) writeFileSync(file, xml);
  expect(xml).toBe(readFileSync(file, "utf8"));
};

const iscsiVg = () => {
  const def = fromVector("ISCSI");
  if (def.type !== "iscsi") throw new Error("not iscsi");
  return { ...def, iscsi: { ...def.iscsi, lun: 1, volumeGroup: "vg_vms", chap: { user: "node1", password: "s3cret" } } };
};

const cases: Record<string, () => PoolXmlModel[]> = {
  "nfs-vector": () => poolWishes(fromVector("NFS")).map((w) => w.model),
  "ceph-vector": () => poolWishes(fromVector("CEPH_RBD")).map((w) => w.model),
  "iscsi-vector": () => poolWishes(fromVector("ISCSI")).map((w) => w.model),
  "iscsi-vg-chap": () => poolWishes(iscsiVg()).map((w) => w.model),
};

describe("pool XML of each type: golden files, read back to the same model", () => {
  for (const [name, models] of Object.entries(cases)) {
    test(name, () => {
      const all = models();
      all.forEach((m, i) => {
        const xml = buildPoolXml(m);
        golden(all.length > 1 ? `${name}-${i + 1}-${m.type}` : name, xml);
        expect(poolModelOf(parsePoolXml(xml))).toEqual(m);
      });
    });
  }

  test("the NFS vector: mounted at <state>/mnt/nfs-<id>, version 4.1 as a mount option", () => {
    const [w] = poolWishes(fromVector("NFS"));
    expect(w!.model).toMatchObject({
      type: "netfs",
      host: "10.0.0.5",
      dir: "/exports/vms",
      mountOptions: ["vers=4.1"],
      path: "/var/lib/limiquantix/mnt/nfs-5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
    });
  });

  test("the Ceph vector: the caller's secret uuid, user libvirt, both monitors", () => {
    const [w] = poolWishes(fromVector("CEPH_RBD"));
    expect(w!.model).toMatchObject({ type: "rbd", pool: "vms", auth: { username: "libvirt", secretUuid: "b4c5d6e7-f8a9-4b0c-9d1e-2f3a4b5c6d7e" } });
  });

  test("hostile strings are escaped", () => {
    const xml = buildPoolXml({ type: "netfs", name: "n", path: "/m/<x>", host: "h", dir: "/e&'\"", mountOptions: ["a=<b>"] });
    expect(xml).not.toContain("<x>");
    expect(poolModelOf(parsePoolXml(xml))).toMatchObject({ path: "/m/<x>", dir: "/e&'\"", mountOptions: ["a=<b>"] });
  });
});

describe("secret XML", () => {
  test("Ceph and CHAP secrets: golden files, read back; the value is never in the XML", () => {
    const ceph = fromVector("CEPH_RBD");
    const cephXml = buildSecretXml({
      uuid: secretUuidOf(ceph)!,
      description: "Ceph key of client.libvirt for storage pool 7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b",
      usage: { type: "ceph", name: "client.libvirt secret for 7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b" },
    });
    golden("secret-ceph", cephXml);
    expect(parseSecretXml(cephXml)).toMatchObject({ uuid: "b4c5d6e7-f8a9-4b0c-9d1e-2f3a4b5c6d7e", usage: { type: "ceph" } });
    const chap = iscsiVg();
    const chapXml = buildSecretXml({
      uuid: secretUuidOf(chap)!,
      description: "CHAP password of node1",
      usage: { type: "iscsi", target: "limiquantix-chap-8f9a0b1c-2d3e-4f4a-8b5c-6d7e8f9a0b1c" },
    });
    golden("secret-chap", chapXml);
    expect(chapXml).not.toContain("s3cret");
    expect(secretUuidOf(chap)).toBe(secretUuidOf(iscsiVg()));
  });

  test("the key of a Ceph keyring", () => {
    expect(keyringKey('[client.libvirt]\n\tkey = AQBzZXJ2ZXJrZXk9PQ==\n\tcaps mon = "profile rbd"\n')).toBe("AQBzZXJ2ZXJrZXk9PQ==");
    expect(keyringKey("[client.x]\n")).toBeUndefined();
  });
});

describe("attach <disk> of each kind", () => {
  test("file, block and rbd disks", () => {
    golden(
      "disk-rbd",
      buildVolumeDiskXml({
        source: {
          kind: "rbd",
          image: "vms/root",
          monitors: [{ host: "10.0.0.11", port: 6789 }],
          auth: { username: "libvirt", secretUuid: "b4c5d6e7-f8a9-4b0c-9d1e-2f3a4b5c6d7e" },
        },
        format: "raw",
        target: "vdb",
      }),
    );
    expect(buildVolumeDiskXml({ source: { kind: "file", path: "/p/a.qcow2" }, format: "qcow2", target: "vdb" })).toContain('<source file="/p/a.qcow2"/>');
    expect(buildVolumeDiskXml({ source: { kind: "block", path: "/dev/vg/a" }, format: "raw", target: "vdb" })).toContain('<source dev="/dev/vg/a"/>');
  });
});

describe("libvirt's own parser (test:///default) takes every pool XML and answers the same model", () => {
  const lv = ffi.loadLibvirt();
  let c: ffi.Connection;
  beforeAll(() => {
    c = ffi.openConnection(lv, "test:///default");
  });
  afterAll(() => ffi.closeConnection(c));

  for (const [name, models] of Object.entries(cases)) {
    test(name, () => {
      for (const m of models()) {
        const p = ffi.definePool(c, buildPoolXml({ ...m, name: `lq-pxt-${m.name.replace(/~/g, "-")}` }));
        try {
          const back = poolModelOf(parsePoolXml(ffi.poolXml(c, p)));
          // The test driver has no fs backend to keep <fs:mount_opts> (libvirtd's does: the real tier checks it).
          const kept = m.type === "netfs" ? { mountOptions: [] } : {};
          expect(back).toEqual({ ...m, ...kept, name: `lq-pxt-${m.name.replace(/~/g, "-")}`, uuid: back?.uuid } as PoolXmlModel);
        } finally {
          ffi.undefinePool(c, p);
          ffi.freePool(c, p);
        }
      }
    });
  }
});
