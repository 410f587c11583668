// Every command of the README's "Calling the API" section, as written (buf curl and curl against
// 127.0.0.1:9090), run against a dev daemon with only the address swapped, must exit 0 and answer
// without an error; plus reflection describing a message on both reflection protocols, which is
// what grpcurl's `describe` asks for.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ServerReflection as V1 } from "../../src/gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as V1alpha } from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";

const ROOT = join(import.meta.dir, "..", "..");

/** The section's shell commands, continuation lines joined, comments dropped. */
export function apiCommands(readme: string): string[] {
  const start = readme.indexOf("## Calling the API");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const commands: string[] = [];
  let current = "";
  // Quoted JSON spans lines: a command ends at a line that closes its quotes and has no trailing "\".
  for (const line of block.split("\n")) {
    if (current === "" && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    current += `${line}\n`;
    const quotes = (current.match(/'/g) ?? []).length;
    if (quotes % 2 === 0 && !line.trimEnd().endsWith("\\")) {
      commands.push(current.trim());
      current = "";
    }
  }
  return commands;
}

/** SIGINT to a process and all its descendants. */
function interruptTree(pid: number): void {
  const children = Bun.spawnSync(["pgrep", "-P", String(pid)])
    .stdout.toString()
    .split("\n")
    .filter(Boolean)
    .map(Number);
  for (const child of children) interruptTree(child);
  try {
    process.kill(pid, "SIGINT");
  } catch {}
}

const commands = apiCommands(readFileSync(join(ROOT, "README.md"), "utf8"));
let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(() => d.stop());

describe("README: Calling the API", () => {
  test("the section shows list-methods, list-services, v1alpha reflection, CreateVM and StreamEvents", () => {
    const all = commands.join("\n");
    for (const want of ["--list-methods", "--list-services", "grpc-v1alpha", "/CreateVM", "/ListVMs", "/StreamEvents"]) expect(all).toContain(want);
  });

  test("every command exits 0 and answers without an error, in order", async () => {
    const address = new URL(d.baseUrl).host;
    for (const command of commands) {
      const stream = command.includes("/StreamEvents");
      const p = Bun.spawn(["bash", "-c", `exec ${command.replaceAll("127.0.0.1:9090", address)}`], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` },
        stdout: "pipe",
        stderr: "pipe",
      });
      let out = "";
      const reading = (async () => {
        for await (const chunk of p.stdout) {
          out += new TextDecoder().decode(chunk);
          // A stream runs until stopped: once it has replayed the buffer (the VM created and
          // started above), Ctrl-C, as a person would.
          // npx runs buf below it: the interrupt goes to the whole tree, as a terminal's Ctrl-C does.
          if (stream && out.includes('"sequence": "2"')) interruptTree(p.pid);
        }
      })();
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited, reading]);
      // The interrupted stream ends with buf's own "canceled": that one is the Ctrl-C.
      const codes = [...out.matchAll(/"code": "(\w+)"/g)].map((m) => m[1]);
      const failed = /Failure/.test(err) || codes.some((c) => !(stream && c === "canceled"));
      expect(`${command}\n-> ${stream ? "stopped" : code} ${failed ? out + err : ""}`).toBe(`${command}\n-> ${stream ? "stopped" : 0} `);
      if (stream) expect(out).toContain('"type": "EVENT_TYPE_VM_STARTED"');
    }
  }, 120_000);

  test.each([
    ["v1", V1],
    ["v1alpha", V1alpha],
  ] as const)("reflection %s describes a message (grpcurl describe)", async (_, service) => {
    const client = createClient(service as typeof V1, createGrpcTransport({ baseUrl: d.baseUrl }));
    async function* one() {
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "limiquantix.node.v1.VMSpec" } };
    }
    for await (const res of client.serverReflectionInfo(one())) {
      expect(res.messageResponse.case).toBe("fileDescriptorResponse");
      const protos = res.messageResponse.case === "fileDescriptorResponse" ? res.messageResponse.value.fileDescriptorProto : [];
      const file = fromBinary(FileDescriptorProtoSchema, protos[0]!);
      const spec = file.messageType.find((m) => m.name === "VMSpec");
      expect(spec?.field.find((f) => f.name === "cpu_cores")?.number).toBe(1);
      break;
    }
  });
});
