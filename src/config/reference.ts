// Renders src/config/REFERENCE.md from the key table, so the documented keys, environment
// variables and flags cannot drift from what loadConfig reads (a test compares the two).

import { DEFAULT_CONFIG_PATH } from "./build-config.ts";
import { CONFIG_ENV, envName, flagName, KEYS } from "./keys.ts";

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The keys table alone (also embedded in the README by scripts/config-reference.ts). */
export function renderKeyTable(): string {
  const rows = KEYS.map((spec) => {
    const spellings = [spec.key, ...spec.aliases];
    return [
      code(spec.key),
      spec.aliases.map(code).join(", ") || "",
      spellings.map((p) => code(envName(p))).join("<br>"),
      spec.flag ? code(flagName(spec.flag)) : "",
      cell(spec.defaultText),
      cell(spec.doc),
    ];
  });
  return [
    "| Key | Build-guide spelling | Environment | Flag | Default | Meaning |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export function renderReference(): string {
  const table = renderKeyTable();
  return `# limiquantix-node configuration reference

<!-- Generated from src/config/keys.ts: UPDATE_CONFIG_REFERENCE=1 bun test test/config/reference.test.ts -->

Precedence, lowest first: **defaults < config file < environment < flags**.

The config file is ${code("--config PATH")}, else ${code(CONFIG_ENV)}, else ${code(DEFAULT_CONFIG_PATH)} when it
exists. A file named by ${code("--config")} or ${code(CONFIG_ENV)} must exist; a missing default file is fine.
${code("limiquantix-node config check")} validates the file and prints the effective config; with
${code("tls.enabled")} it also reads the certificate, key and client CA files and checks that the key is the
certificate's (exit 2 naming the key otherwise, as ${code("serve")} does before it listens).

## Rules

- Both layouts are accepted, even mixed: the nested one (${code("server.listen_address")}, ...) and the
  build guide's flat one (${code("listen_address")}, ${code("control_plane_url")}, ${code("auto_register")},
  ${code("hypervisor.type")}, ${code("hypervisor.uri")}, ${code("storage.vm_images")}). A setting given in both
  spellings with different values is an error naming both.
- Environment variables are ${code("LIMIQUANTIX_<SECTION>_<KEY>")} upper-cased, for every spelling in the table.
  An empty variable counts as unset. Booleans accept true/false, 1/0, yes/no, on/off; labels are
  ${code("name=value,name2=value2")}.
- In the file, types are strict: ${code("true")}/${code("false")} unquoted, integers unquoted. ${code("null")} or an
  empty value means unset (the default applies).
- Unknown keys and unknown ${code("LIMIQUANTIX_*")} variables are warnings, with the nearest known name.
  Wrong values are errors naming the key, the value and what is allowed; the CLI exits with code 2.
- ${code("--dev")} changes defaults only: mock backend, listeners on 127.0.0.1, state under
  ${code("<tmp>/limiquantix-dev-<uid>")}. Anything set explicitly still wins.
- ${code("control_plane.registration_enabled: true")} needs ${code("control_plane.address")}; the metrics port
  must differ from the API port when both listen on the same address.

## Keys

${table}
`;
}
