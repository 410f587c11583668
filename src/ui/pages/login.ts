// The login form: the host's own accounts (PAM on the daemon's side).

import { type ApiError, login } from "../api.ts";
import { h, replace } from "../dom.ts";

const MESSAGES: Record<string, string> = {
  invalid_credentials: "Wrong user name or password.",
  not_allowed: "This account may not manage the host (root or the admin group only).",
};

export function renderLogin(root: HTMLElement, done: () => void): void {
  const user = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert", "data-testid": "login-error" });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h(
    "form",
    {
      class: "login card",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          await login(user.value, pass.value);
          done();
        } catch (e) {
          const err = e as ApiError;
          error.textContent =
            err.code === "rate_limited"
              ? `Too many failed attempts; try again in ${err.retryAfterSeconds ?? "a few"} seconds.`
              : (MESSAGES[err.code] ?? `Login failed: ${err.message}`);
          submit.disabled = false;
        }
      },
    },
    h("h1", {}, "Quantix Host"),
    h("label", {}, "User name", user),
    h("label", {}, "Password", pass),
    submit,
    error,
  );
  replace(root, form);
  document.body.dataset.ready = "1";
  user.focus();
}
