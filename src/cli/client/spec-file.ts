// `vm create -f FILE`: reads a YAML or JSON VM spec and checks it with the API's own code (what
// CreateVM applies: vmSpecFromWire, then validateVmSpec with its faults named by the wire's
// fields, withWireFields), so a spec that passes here passes the daemon's checks and a bad one
// fails before anything is sent, naming the file and the field.

import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { type CreateVMOnNodeRequest, CreateVMOnNodeRequestSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { validateVmId, validateVmSpec } from "../../hypervisor/validation.ts";
import { withWireFields } from "../../server/convert/field-names.ts";
import { vmSpecFromWire } from "../../server/convert/vm-spec.ts";
import { UsageError } from "../usage-error.ts";
import { requestJson, SpecShapeError } from "./spec-shape.ts";

/**
 * The node fills NICs without a network from its own default network; any valid name stands in
 * for it here (only the daemon knows its configured one).
 */
const CHECK_DEFAULTS = { defaultNetwork: "default" };

function parseText(file: string, text: string): unknown {
  if (file.endsWith(".json")) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${file}: not valid JSON: ${(err as Error).message}`);
    }
  }
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    throw new UsageError(
      `${file}${at ? `:${at.line}:${at.col}` : ""}: not valid YAML: ${first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
    );
  }
  return doc.toJS();
}

/** The API names spec fields `spec.disks[0].bus`; in the file they sit at the top: `disks[0].bus`. */
const fileField = (message: string) => message.replace(/^spec\./, "");

/**
 * Checks a parsed spec file and returns the request it stands for (vm_id empty when the file has
 * none). Any failure's message starts with the field as the file has it (disks[0].size: ...).
 */
export async function requestFromObject(value: unknown): Promise<CreateVMOnNodeRequest> {
  try {
    const req = fromJson(CreateVMOnNodeRequestSchema, requestJson(value) as JsonValue);
    if (req.vmId !== "") validateVmId(req.vmId, "vm_id");
    const spec = vmSpecFromWire(req, CHECK_DEFAULTS, "spec");
    await withWireFields(spec.disks, async () => validateVmSpec(spec, "spec"));
    return req;
  } catch (err) {
    if (err instanceof HypervisorError) throw new SpecShapeError("", fileField(err.message));
    if (err instanceof ConnectError) throw new SpecShapeError("", fileField(err.rawMessage));
    throw err;
  }
}

/** The checked request of a file; every failure is a UsageError naming the file. */
export async function readSpecFile(file: string, read: (path: string) => string = (p) => readFileSync(p, "utf8")): Promise<CreateVMOnNodeRequest> {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  const value = parseText(file, text);
  if (value === null || value === undefined) throw new UsageError(`${file}: the file is empty; see deploy/vm-spec.example.yaml`);
  try {
    return await requestFromObject(value);
  } catch (err) {
    if (err instanceof SpecShapeError) throw new UsageError(`${file}: ${err.message}`);
    throw err;
  }
}
