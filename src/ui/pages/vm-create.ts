// The create-VM form: name, vCPU, memory, a root disk in a pool, an ISO from a pool's files,
// a NIC on a network, cloud-init user data.

import { call } from "../api.ts";
import { flash, h, replace } from "../dom.ts";
import { bytes } from "../format.ts";
import { listIsos, listPools, select } from "./pools.ts";

export async function renderVmCreate(root: HTMLElement): Promise<void> {
  const pools = (await listPools()).filter((p) => p.active !== false);
  const isos = (await Promise.all(pools.map(listIsos))).flat();
  const input = (name: string, attrs: Record<string, string | number | boolean> = {}) => h("input", { name, ...attrs });
  const name = input("name", { required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,62}", placeholder: "web-1" });
  const vcpu = input("vcpu", { type: "number", min: 1, max: 64, value: 1, required: true });
  const memory = input("memoryMib", { type: "number", min: 64, step: 64, value: 1024, required: true });
  const pool = select(
    "pool",
    pools.map((p) => ({ value: p.poolId, label: `${p.name || p.poolId} (${bytes(p.availableBytes)} free)` })),
  );
  const diskGib = input("diskGib", { type: "number", min: 1, value: 10, required: true });
  const iso = select("iso", [{ value: "", label: "none" }, ...isos.map((i) => ({ value: i.path, label: i.label }))]);
  const network = input("network", { value: "default", required: true });
  const userData = h("textarea", { name: "userData", rows: 6, placeholder: "#cloud-config\nhostname: web-1" });
  const start = input("start", { type: "checkbox" });
  const submit = h("button", { type: "submit" }, "Create");

  const form = h(
    "form",
    {
      class: "card form",
      "data-testid": "create-vm",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        submit.disabled = true;
        const vmId = crypto.randomUUID();
        const spec = {
          cpuCores: Number(vcpu.value),
          cpuSockets: 1,
          cpuThreadsPerCore: 1,
          memoryMib: memory.value,
          disks: [{ id: "root", sizeGib: diskGib.value, bootable: true, poolId: pool.value }],
          cdroms: iso.value ? [{ id: "cd0", isoPath: iso.value, bootable: true }] : [],
          nics: [{ id: "eth0", network: network.value }],
          console: { vncEnabled: true },
          ...(userData.value.trim() ? { cloudInit: { userData: userData.value } } : {}),
        };
        try {
          await call("CreateVM", { vmId, name: name.value, spec, start: start.checked });
          flash(`Created ${name.value}`);
          location.hash = `#/vms/${vmId}`;
        } catch (e) {
          flash(`Could not create ${name.value}: ${(e as Error).message}`, "error");
          submit.disabled = false;
        }
      },
    },
    h("label", {}, "Name", name),
    h("label", {}, "vCPUs", vcpu),
    h("label", {}, "Memory (MiB)", memory),
    h("label", {}, "Disk pool", pool),
    h("label", {}, "Disk size (GiB)", diskGib),
    h("label", {}, "ISO image", iso),
    h("label", {}, "Network", network),
    h("label", {}, "cloud-init user data", userData),
    h("label", { class: "inline" }, start, " start after creating"),
    submit,
  );
  replace(root, h("h1", {}, "Create a virtual machine"), form);
}
