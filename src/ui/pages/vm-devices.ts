// A VM's disks, NICs and CD-ROMs: hot-plug (attach/detach) and ISO insert/eject.

import { callReporting } from "../report.ts";
import { confirmDialog } from "../dialog.ts";
import { h, table } from "../dom.ts";
import { listIsos, listPools, select } from "./pools.ts";

export interface VmSpec {
  disks?: { id: string; sizeGib?: string; target?: string; resolvedPath?: string; path?: string; bus?: string; poolId?: string }[];
  nics?: { id: string; macAddress?: string; network?: string; bridge?: string; model?: string }[];
  cdroms?: { id: string; isoPath?: string; target?: string; resolvedPath?: string }[];
}

export function devicesSection(vmId: string, spec: VmSpec, redraw: () => Promise<void>): HTMLElement[] {
  /** The call, then a redraw; a form whose call succeeded is emptied (the redraw keeps what is typed). */
  const act = async (what: string, method: string, request: object, form?: HTMLFormElement) => {
    if ((await callReporting(what, method, request)) && form) form.reset();
    await redraw();
  };
  const detach = (label: string, method: string, request: object) =>
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async () => {
          if (await confirmDialog(`Detach ${label}?`, "Detach")) await act(`Detach ${label}`, method, request);
        },
      },
      "Detach",
    );

  const disks = table(
    ["Disk", "Target", "Size", "Image", ""],
    (spec.disks ?? []).map((d) => [
      d.id,
      d.target ?? "",
      d.sizeGib ? `${d.sizeGib} GiB` : "",
      d.resolvedPath || d.path || "",
      detach(`disk ${d.id}`, "DetachDisk", { vmId, diskId: d.id }),
    ]),
    { "data-testid": "vm-disks" },
  );
  const diskId = h("input", { name: "diskId", placeholder: "data1", required: true, size: 8 });
  const diskSize = h("input", { name: "diskSize", type: "number", min: 1, value: 1, required: true, size: 4 });
  const diskPool = select("diskPool", []);
  void listPools().then((pools) => diskPool.append(...pools.map((p) => h("option", { value: p.poolId }, p.name || p.poolId))));
  const addDisk = h(
    "form",
    {
      class: "inline-form",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void act(
          `Attach disk ${diskId.value}`,
          "AttachDisk",
          { vmId, disk: { id: diskId.value, sizeGib: diskSize.value, poolId: diskPool.value } },
          ev.currentTarget as HTMLFormElement,
        );
      },
    },
    diskId,
    diskSize,
    " GiB in ",
    diskPool,
    h("button", { type: "submit" }, "Attach disk"),
  );

  const nics = table(
    ["NIC", "MAC", "Network", ""],
    (spec.nics ?? []).map((n) => [n.id, n.macAddress ?? "", n.network || n.bridge || "", detach(`NIC ${n.id}`, "DetachNIC", { vmId, nicId: n.id })]),
    { "data-testid": "vm-nics" },
  );
  const nicId = h("input", { name: "nicId", placeholder: "eth1", required: true, size: 8 });
  const nicNet = h("input", { name: "nicNetwork", value: "default", required: true, size: 10 });
  const addNic = h(
    "form",
    {
      class: "inline-form",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void act(`Attach NIC ${nicId.value}`, "AttachNIC", { vmId, nic: { id: nicId.value, network: nicNet.value } }, ev.currentTarget as HTMLFormElement);
      },
    },
    nicId,
    " on ",
    nicNet,
    h("button", { type: "submit" }, "Attach NIC"),
  );

  const isoChoice = select("isoChoice", []);
  void listPools()
    .then((pools) => Promise.all(pools.map(listIsos)))
    .then((lists) => isoChoice.append(...lists.flat().map((i) => h("option", { value: i.path }, i.label))));
  const cdroms = table(
    ["CD-ROM", "Target", "Medium", ""],
    (spec.cdroms ?? []).map((c) => [
      c.id,
      c.target ?? "",
      c.isoPath || c.resolvedPath || "empty",
      c.id === "cloud-init"
        ? ""
        : h(
            "span",
            { class: "actions" },
            h(
              "button",
              {
                type: "button",
                onclick: () => isoChoice.value && void act(`Insert ${isoChoice.value}`, "ChangeMedia", { vmId, cdromId: c.id, isoPath: isoChoice.value }),
              },
              "Insert selected ISO",
            ),
            h("button", { type: "button", onclick: () => void act(`Eject ${c.id}`, "ChangeMedia", { vmId, cdromId: c.id, isoPath: "" }) }, "Eject"),
          ),
    ]),
    { "data-testid": "vm-cdroms" },
  );

  return [
    h("h2", {}, "Disks"),
    disks,
    addDisk,
    h("h2", {}, "Network interfaces"),
    nics,
    addNic,
    h("h2", {}, "CD-ROM drives"),
    h("label", {}, "ISO: ", isoChoice),
    cdroms,
  ];
}
