// The host UI's entry: restores the session (or shows the login form), draws the frame and routes
// by the URL's hash (#/vms/<id>); each page gets an AbortSignal that fires when it is left, which
// closes its streams.

import { currentSession, logout, restoreSession, whenUnauthenticated } from "./api.ts";
import { h, replace } from "./dom.ts";
import { renderDashboard } from "./pages/dashboard.ts";
import { renderEvents } from "./pages/events.ts";
import { renderLogin } from "./pages/login.ts";
import { renderConsole } from "./pages/console.ts";
import { renderStorage } from "./pages/storage.ts";
import { renderVmCreate } from "./pages/vm-create.ts";
import { renderVm } from "./pages/vm.ts";
import { renderVms } from "./pages/vms.ts";

export type Page = (root: HTMLElement, params: string[], signal: AbortSignal) => Promise<void> | void;

const ROUTES: [RegExp, Page, string][] = [
  [/^\/?$/, renderDashboard, "dashboard"],
  [/^\/vms$/, renderVms, "vms"],
  [/^\/vms\/new$/, renderVmCreate, "vms"],
  [/^\/vms\/([^/]+)\/console$/, renderConsole, "vms"],
  [/^\/vms\/([^/]+)$/, renderVm, "vms"],
  [/^\/storage(?:\/([^/]+))?$/, renderStorage, "storage"],
  [/^\/events$/, renderEvents, "events"],
];

const app = document.getElementById("app") as HTMLElement;
let leave = new AbortController();

function nav(active: string): HTMLElement {
  const link = (id: string, href: string, label: string) => h("a", { href, class: id === active ? "active" : "", "data-nav": id }, label);
  return h(
    "nav",
    { class: "top" },
    h("strong", { class: "brand" }, "Quantix Host"),
    link("dashboard", "#/", "Dashboard"),
    link("vms", "#/vms", "Virtual machines"),
    link("storage", "#/storage", "Storage"),
    link("events", "#/events", "Events"),
    h("span", { class: "spacer" }),
    h("span", { class: "user", "data-testid": "user" }, currentSession()?.username ?? ""),
    h(
      "button",
      {
        type: "button",
        "data-testid": "logout",
        onclick: async () => {
          await logout();
          showLogin();
        },
      },
      "Log out",
    ),
  );
}

function showLogin(): void {
  leave.abort();
  leave = new AbortController();
  renderLogin(app, () => route());
}

async function route(): Promise<void> {
  leave.abort();
  leave = new AbortController();
  if (!currentSession()) return showLogin();
  const path = decodeURIComponent(location.hash.replace(/^#/, "").split("?")[0] ?? "");
  const match = ROUTES.map(([re, page, id]) => ({ m: re.exec(path), page, id })).find((r) => r.m);
  const main = h("main", {});
  replace(app, nav(match?.id ?? ""), h("div", { id: "flash", class: "flash", role: "status" }), main);
  if (!match?.m) {
    replace(main, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the dashboard")));
    return;
  }
  try {
    await match.page(
      main,
      match.m.slice(1).filter((p): p is string => p !== undefined),
      leave.signal,
    );
  } catch (e) {
    if (!leave.signal.aborted) replace(main, h("p", { class: "error" }, `Could not load this page: ${(e as Error).message}`));
  }
  // The end-to-end tests time "first page interactive" from navigation start to this mark.
  if (!performance.getEntriesByName("lq-interactive").length) performance.mark("lq-interactive");
  document.body.dataset.ready = "1";
}

whenUnauthenticated(showLogin);
window.addEventListener("hashchange", () => void route());
void restoreSession().then(() => route(), showLogin);
