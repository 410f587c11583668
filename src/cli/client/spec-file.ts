// `vm create -f FILE`: reads a YAML or JSON VM spec and checks it with the API's own code
// (vmSpecFromWire, then validateVmSpec), so a spec that passes here passes on the daemon and a
// bad one fails before anything is sent, naming the file and the field.

import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { type VMSpec, VMSpecSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { validateVmSpec } from "../../hypervisor/validation.ts";
import { vmSpecFromWire } from "../../server/convert/vm-spec.ts";
import { UsageError } from "../usage-error.ts";
import { SpecShapeError, toProtoJson } from "./spec-shape.ts";

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
    throw new UsageError(`${file}${at ? `:${at.line}:${at.col}` : ""}: not valid YAML: ${first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`);
  }
  return doc.toJS();
}

/** Checks a parsed spec; the message of any failure starts with the field (spec.cpu.sockets: ...). */
export function specFromObject(value: unknown): VMSpec {
  const json = toProtoJson(VMSpecSchema, value, "spec");
  const spec = fromJson(VMSpecSchema, json as JsonValue);
  validateVmSpec(vmSpecFromWire(spec, "spec"), "spec");
  return spec;
}

/** The checked VMSpec of a file; every failure is a UsageError naming the file. */
export function readSpecFile(file: string, read: (path: string) => string = (p) => readFileSync(p, "utf8")): VMSpec {
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
    return specFromObject(value);
  } catch (err) {
    if (err instanceof SpecShapeError || err instanceof HypervisorError) throw new UsageError(`${file}: ${err.message}`);
    if (err instanceof ConnectError) throw new UsageError(`${file}: ${err.rawMessage}`);
    throw err;
  }
}
