// gRPC server reflection (grpc.reflection.v1 and the older v1alpha that some tools still ask
// for), so buf curl and grpcurl can call the daemon with no .proto files at hand. Descriptors
// come from the generated code, so reflection always matches what the server speaks.

import { create, type DescFile, type DescMessage, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.ts";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";

/** Every file reachable from the roots, and which file defines each fully-qualified symbol. */
export function indexFiles(roots: DescFile[]) {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const addMessage = (file: DescFile, m: DescMessage) => {
    symbols.set(m.typeName, file);
    for (const e of m.nestedEnums) symbols.set(e.typeName, file);
    for (const n of m.nestedMessages) addMessage(file, n);
  };
  const visit = (file: DescFile) => {
    if (files.has(`${file.name}.proto`)) return;
    files.set(`${file.name}.proto`, file);
    for (const m of file.messages) addMessage(file, m);
    for (const e of file.enums) symbols.set(e.typeName, file);
    for (const s of file.services) {
      symbols.set(s.typeName, file);
      for (const method of s.methods) symbols.set(`${s.typeName}.${method.name}`, file);
    }
    file.dependencies.forEach(visit);
  };
  roots.forEach(visit);
  return { files, symbols };
}

/** The file and its transitive dependencies, file first, each once. */
function withDependencies(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const walk = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    f.dependencies.forEach(walk);
  };
  walk(file);
  return out;
}

type ReflectionModule = typeof v1 | typeof v1alpha;
type Request = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

function answer(mod: ReflectionModule, req: Request, services: string[], index: ReturnType<typeof indexFiles>) {
  const fail = (code: number, message: string) =>
    ({ case: "errorResponse", value: create(mod.ErrorResponseSchema, { errorCode: code, errorMessage: message }) }) as const;
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? ({
          case: "fileDescriptorResponse",
          value: create(mod.FileDescriptorResponseSchema, { fileDescriptorProto: withDependencies(file) }),
        } as const)
      : fail(5, `${what} not found`);
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: create(mod.ListServiceResponseSchema, { service: services.map((name) => ({ name })) }),
      } as const;
    case "fileContainingSymbol":
      return files(index.symbols.get(r.value.replace(/^\./, "")), `symbol ${r.value}`);
    case "fileByFilename":
      return files(index.files.get(r.value), `file ${r.value}`);
    case "fileContainingExtension":
      return fail(5, `no extensions of ${r.value.containingType} are registered`);
    case "allExtensionNumbersOfType":
      return {
        case: "allExtensionNumbersResponse",
        value: create(mod.ExtensionNumberResponseSchema, { baseTypeName: r.value, extensionNumber: [] }),
      } as const;
    default:
      return fail(3, "empty reflection request");
  }
}

/** The file that defines each module's ServerReflection: it is listed, so it must be describable. */
const ownFile = (mod: ReflectionModule): DescFile =>
  "file_grpc_reflection_v1_reflection" in mod ? mod.file_grpc_reflection_v1_reflection : mod.file_grpc_reflection_v1alpha_reflection;

function register(router: ConnectRouter, mod: ReflectionModule, roots: DescFile[], services: string[]) {
  const index = indexFiles([...roots, ownFile(mod)]);
  const all = [...services, mod.ServerReflection.typeName];
  router.service(mod.ServerReflection as typeof v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield create(mod.ServerReflectionResponseSchema as typeof v1.ServerReflectionResponseSchema, {
          validHost: req.host,
          originalRequest: req,
          messageResponse: answer(mod, req, all, index) as v1.ServerReflectionResponse["messageResponse"],
        });
      }
    },
  });
}

/** Serves reflection for the given files; `services` are the fully-qualified names to list. */
export function registerReflection(router: ConnectRouter, roots: DescFile[], services: string[]): void {
  register(router, v1, roots, services);
  register(router, v1alpha, roots, services);
}
