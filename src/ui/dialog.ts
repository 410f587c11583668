// A confirmation dialog (<dialog>, so the page behind it is inert): resolves true on confirm.

import { h } from "./dom.ts";

export function confirmDialog(question: string, confirmLabel = "Confirm", extra?: HTMLElement): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "data-testid": "confirm-dialog" });
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h("p", {}, question),
      extra ?? "",
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", onclick: () => close(false) }, "Cancel"),
        h("button", { type: "button", class: "danger", "data-testid": "confirm-yes", onclick: () => close(true) }, confirmLabel),
      ),
    );
    dialog.addEventListener("cancel", () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}
