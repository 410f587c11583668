// The one way the UI builds DOM: elements from a tag, properties and children, where every
// string child becomes a text node. Nothing received from the daemon is ever parsed as HTML,
// so a VM named `<img onerror=...>` shows as text.

export type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (key === "class") el.className = String(value);
    else if (key === "value" && "value" in el) (el as HTMLInputElement).value = String(value);
    else if (key === "checked" && "checked" in el) (el as HTMLInputElement).checked = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/**
 * Replaces an element's children, keeping what the operator was doing in its named inputs: each
 * value typed, and the input that had the focus, with its caret, so a redraw (an event arriving)
 * neither empties a form nor sends the next keystrokes nowhere.
 */
export function replaceKeepingInput(parent: Element, ...children: Child[]): void {
  const typed = new Map<string, string>();
  for (const el of parent.querySelectorAll<HTMLInputElement>("input[name]")) if (el.value !== "") typed.set(el.name, el.value);
  const active = document.activeElement;
  const focused = active instanceof HTMLInputElement && active.name !== "" && parent.contains(active) ? active : undefined;
  const caret = focused ? caretOf(focused) : undefined;
  replace(parent, ...children);
  for (const el of parent.querySelectorAll<HTMLInputElement>("input[name]")) {
    const value = typed.get(el.name);
    if (value !== undefined) el.value = value;
    if (focused !== undefined && el.name === focused.name) {
      el.focus();
      if (caret !== undefined) el.setSelectionRange(caret.start, caret.end);
    }
  }
}

/** The selection of an input that has one (number inputs have none and refuse to be asked). */
function caretOf(el: HTMLInputElement): { start: number; end: number } | undefined {
  try {
    return el.selectionStart === null || el.selectionEnd === null ? undefined : { start: el.selectionStart, end: el.selectionEnd };
  } catch {
    return undefined;
  }
}

/** A definition list row set: [label, value] pairs, values rendered as text. */
export function facts(rows: [string, Child][]): HTMLDListElement {
  return h("dl", { class: "facts" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

export function table(headers: string[], rows: Child[][], attrs: Props = {}): HTMLTableElement {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", {}, t)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((c) => h("td", {}, c))))),
  );
}

/** Shows a message in the page's status line (errors in red). */
export function flash(message: string, kind: "ok" | "error" = "ok"): void {
  const bar = document.getElementById("flash");
  if (!bar) return;
  bar.className = `flash ${kind}`;
  bar.textContent = message;
}
