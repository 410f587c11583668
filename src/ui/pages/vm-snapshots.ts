// A VM's snapshots: take, revert, delete (revert and delete ask first).

import { call } from "../api.ts";
import { callReporting } from "../report.ts";
import { confirmDialog } from "../dialog.ts";
import { h, replace, table } from "../dom.ts";
import { powerState, time } from "../format.ts";

interface Snapshot {
  snapshotId: string;
  name?: string;
  description?: string;
  createdAt?: string;
  vmState?: string;
  current?: boolean;
}

export function snapshotsSection(vmId: string, signal: AbortSignal): HTMLElement {
  const list = h("div", { "data-testid": "snapshots" });
  const nameInput = h("input", { name: "snapshotName", placeholder: "before-upgrade", required: true, pattern: "[A-Za-z0-9._\\-]+" });
  const act = async (what: string, method: string, request: object) => {
    await callReporting(what, method, request);
    await draw();
  };
  const draw = async () => {
    const { snapshots = [] } = await call<{ snapshots?: Snapshot[] }>("ListSnapshots", { vmId });
    if (signal.aborted) return;
    replace(
      list,
      snapshots.length === 0
        ? h("p", {}, "No snapshots.")
        : table(
            ["Name", "Taken", "VM state", ""],
            snapshots.map((s) => [
              h("span", { "data-snapshot": s.snapshotId }, s.name || s.snapshotId, s.current ? " (current)" : ""),
              time(s.createdAt),
              powerState(s.vmState),
              h(
                "span",
                { class: "actions" },
                h(
                  "button",
                  {
                    type: "button",
                    "data-action": "revert",
                    onclick: async () => {
                      if (await confirmDialog(`Revert to snapshot ${s.name || s.snapshotId}? Changes since it was taken are lost.`, "Revert"))
                        await act(`Revert to ${s.snapshotId}`, "RevertSnapshot", { vmId, snapshotId: s.snapshotId });
                    },
                  },
                  "Revert",
                ),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "data-action": "delete-snapshot",
                    onclick: async () => {
                      if (await confirmDialog(`Delete snapshot ${s.name || s.snapshotId}?`, "Delete"))
                        await act(`Delete snapshot ${s.snapshotId}`, "DeleteSnapshot", { vmId, snapshotId: s.snapshotId });
                    },
                  },
                  "Delete",
                ),
              ),
            ]),
          ),
    );
  };
  void draw().catch((e: Error) => replace(list, h("p", { class: "error" }, `Snapshots unavailable: ${e.message}`)));
  const form = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        await act(`Snapshot ${nameInput.value}`, "CreateSnapshot", { vmId, name: nameInput.value });
        nameInput.value = "";
      },
    },
    nameInput,
    h("button", { type: "submit", "data-testid": "take-snapshot" }, "Take snapshot"),
  );
  return h("section", { class: "card" }, h("h2", {}, "Snapshots"), form, list);
}
