// Power actions on one VM, each behind a confirmation, shared by the list and the VM page.

import { callReporting } from "../report.ts";
import { confirmDialog } from "../dialog.ts";
import { h } from "../dom.ts";
import { powerState } from "../format.ts";

interface Action {
  id: string;
  label: string;
  method: string;
  /** States in which the action makes sense. */
  when: string[];
  question: (name: string) => string;
  request?: (vmId: string) => object;
}

const ACTIONS: Action[] = [
  { id: "start", label: "Start", method: "StartVM", when: ["stopped", "crashed", "suspended", "unknown"], question: (n) => `Start ${n}?` },
  {
    id: "stop",
    label: "Stop",
    method: "StopVM",
    when: ["running"],
    question: (n) => `Shut down ${n} (ACPI, up to 60 s)?`,
    request: (vmId) => ({ vmId, timeoutSeconds: 60 }),
  },
  {
    id: "force-stop",
    label: "Force stop",
    method: "ForceStopVM",
    when: ["running", "paused", "crashed"],
    question: (n) => `Power off ${n} at once? Unsaved guest data is lost.`,
  },
  { id: "reboot", label: "Reboot", method: "RebootVM", when: ["running"], question: (n) => `Reboot ${n}?` },
  { id: "pause", label: "Pause", method: "PauseVM", when: ["running"], question: (n) => `Pause ${n}?` },
  { id: "resume", label: "Resume", method: "ResumeVM", when: ["paused"], question: (n) => `Resume ${n}?` },
];

export function actionButtons(vm: { vmId: string; name?: string; state?: string }, afterDelete?: () => void): HTMLElement {
  const state = powerState(vm.state);
  const name = vm.name || vm.vmId;
  const run = (label: string, method: string, request: object) => callReporting(`${label} ${name}`, method, request);
  const buttons = ACTIONS.filter((a) => a.when.includes(state)).map((a) =>
    h(
      "button",
      {
        type: "button",
        "data-action": a.id,
        onclick: async () => {
          if (await confirmDialog(a.question(name), a.label)) await run(a.label, a.method, a.request?.(vm.vmId) ?? { vmId: vm.vmId });
        },
      },
      a.label,
    ),
  );
  const withDisks = h("input", { type: "checkbox", name: "deleteDisks", checked: true });
  const del = h(
    "button",
    {
      type: "button",
      class: "danger",
      "data-action": "delete",
      onclick: async () => {
        const extra = h("label", {}, withDisks, " also delete its disks");
        if (!(await confirmDialog(`Delete ${name}? This cannot be undone.`, "Delete", extra))) return;
        await run("Delete", "DeleteVM", { vmId: vm.vmId, deleteDisks: withDisks.checked, force: true });
        afterDelete?.();
      },
    },
    "Delete",
  );
  return h("span", { class: "actions" }, ...buttons, del);
}
