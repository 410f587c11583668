// The daemon's version, from package.json at build time (bun inlines JSON imports).
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
