// Every section, in the order `bun run bench` runs them.

import { floorSection } from "./floor.ts";
import { scaleSection } from "./scale.ts";
import type { Section } from "./section.ts";

export const SECTIONS: Section[] = [floorSection, scaleSection];
