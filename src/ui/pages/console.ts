// The console page: noVNC runs in its own document (console.html), so its ~190 KiB of code is
// loaded only here and not with every page of the UI.

import { call } from "../api.ts";
import { h, replace } from "../dom.ts";

export async function renderConsole(root: HTMLElement, [vmId = ""]: string[]): Promise<void> {
  const vm = await call<{ name?: string }>("GetVMStatus", { vmId });
  replace(
    root,
    h("h1", {}, "Console: ", vm.name || vmId, " ", h("a", { href: `#/vms/${encodeURIComponent(vmId)}` }, "back to the VM")),
    h("iframe", {
      class: "console",
      title: `console of ${vm.name || vmId}`,
      src: `/ui/console?vm=${encodeURIComponent(vmId)}`,
      "data-testid": "console-frame",
    }),
  );
}
