// Every section, in the order `bun run bench` runs them.

import { agentSection } from "./agent.ts";
import { beyondSection } from "./beyond.ts";
import { binarySection } from "./binary.ts";
import { eventsSection } from "./events.ts";
import { floorSection } from "./floor.ts";
import { hostShapeSection } from "./host-shape.ts";
import { hostUiSection } from "./host-ui.ts";
import { lanesSection } from "./lanes.ts";
import { libvirtSection } from "./libvirt.ts";
import { loadSection } from "./load.ts";
import { metricsSection } from "./metrics-stream.ts";
import { scaleSection } from "./scale.ts";
import type { Section } from "./section.ts";
import { telemetrySection } from "./telemetry.ts";

export const SECTIONS: Section[] = [
  floorSection,
  scaleSection,
  eventsSection,
  metricsSection,
  binarySection,
  telemetrySection,
  libvirtSection,
  lanesSection,
  beyondSection,
  loadSection,
  agentSection,
  hostUiSection,
  hostShapeSection,
];
