// The control plane adds this host by its URL and a one-time registration token (contract
// section 5, rows 19-22): the card shows the current token, or makes one.

import { ApiError, rest } from "../api.ts";
import { facts, flash, h, replace } from "../dom.ts";
import { time } from "../format.ts";

interface Token {
  token: string;
  expiresAt: string;
  hostname?: string;
  /** The address the control plane should reach this host on. */
  managementIp?: string;
}

/** The URL to give the control plane: the management address, on the port this page came from. */
function hostUrl(t: Token): string {
  if (!t.managementIp) return location.origin;
  const host = t.managementIp.includes(":") ? `[${t.managementIp}]` : t.managementIp;
  return `https://${host}${location.port ? `:${location.port}` : ""}`;
}

export function registrationCard(): HTMLElement {
  const body = h("div", { "data-testid": "registration" }, "Loading…");
  const show = (t: Token | undefined) =>
    replace(
      body,
      t
        ? facts([
            ["Host URL", h("code", { "data-testid": "registration-url" }, hostUrl(t))],
            ["Host name", t.hostname ?? ""],
            ["Token", h("code", { "data-testid": "registration-token" }, t.token)],
            ["Expires", time(t.expiresAt)],
          ])
        : h("p", {}, "No registration token is active. Make one, then give the control plane this host's URL and the token."),
      h(
        "button",
        {
          type: "button",
          "data-testid": "registration-new",
          onclick: async () => {
            try {
              show(await rest<Token>("POST", "/auth/registration-token", {}));
            } catch (e) {
              flash(`Could not make a registration token: ${(e as Error).message}`, "error");
            }
          },
        },
        t ? "Make a new token" : "Make a registration token",
      ),
    );
  rest<Token>("GET", "/auth/registration-token").then(show, (e: unknown) => {
    if (e instanceof ApiError && e.status === 404) show(undefined);
    else replace(body, h("p", { class: "error" }, `Registration state unavailable: ${(e as Error).message}`));
  });
  return h("section", { class: "card" }, h("h2", {}, "Control-plane registration"), body);
}
