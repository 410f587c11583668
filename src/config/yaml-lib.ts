// The yaml package (~70 modules, the biggest library in the binary) is loaded on first use, not
// at start: the daemon parses YAML only when a config file exists, and prints it only for
// `config check`. A daemon run from flags alone (--dev, tests) never pays its idle memory.
// require() is synchronous in Bun, so loadConfig stays synchronous.

import type * as Yaml from "yaml";

let lib: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  lib ??= require("yaml") as typeof Yaml;
  return lib;
}
