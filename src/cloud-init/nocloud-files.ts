// The files of a NoCloud seed (cloud-init's "cidata" CD-ROM) for one VM. cloud-init requires
// user-data and meta-data to exist; network-config and vendor-data are optional and written only
// when given. Caller-supplied data is written verbatim; only the generated defaults are ours.

export interface NoCloudVm {
  id: string;
  name: string;
}

/** Same shape as the hypervisor's CloudInit spec; empty strings mean "not given". */
export interface NoCloudData {
  userData: string;
  metaData: string;
  networkConfig: string;
  vendorData: string;
}

export interface NoCloudFile {
  name: string;
  content: string;
}

export function noCloudFiles(vm: NoCloudVm, ci: NoCloudData): NoCloudFile[] {
  const files: NoCloudFile[] = [
    {
      name: "user-data",
      content: ci.userData !== "" ? ci.userData : `#cloud-config\nhostname: ${yamlString(vm.name)}\n`,
    },
    {
      name: "meta-data",
      content: ci.metaData !== "" ? ci.metaData : `instance-id: ${yamlString(vm.id)}\nlocal-hostname: ${yamlString(vm.name)}\n`,
    },
  ];
  if (ci.networkConfig !== "") files.push({ name: "network-config", content: ci.networkConfig });
  if (ci.vendorData !== "") files.push({ name: "vendor-data", content: ci.vendorData });
  return files;
}

// Plain scalars that a YAML 1.1 reader (cloud-init uses PyYAML) might not read back as this
// string: booleans and nulls by name; anything starting with a digit, '-' or '.' (a number, a
// date, a sequence entry, .inf/.nan); and "E5"-like names, which the yaml package's 1.1 schema
// takes for a float with no mantissa.
const YAML_WORDS = /^(y|yes|n|no|true|false|on|off|null)$/i;
const EXPONENT_ONLY = /^[eE]-?[0-9]/;
const PLAIN = /^[A-Za-z][A-Za-z0-9._-]*$/;

/**
 * A YAML scalar that reads back as exactly `text`: plain when that is unambiguous, otherwise a
 * JSON string (JSON is YAML). JSON leaves a few characters raw that YAML 1.1 does not take as
 * themselves inside double quotes (U+0085, U+2028, U+2029 fold as line breaks; C1 controls,
 * U+FEFF, U+FFFE/U+FFFF are not printable): those are escaped as \uXXXX, which both read.
 */
export function yamlString(text: string): string {
  if (PLAIN.test(text) && !YAML_WORDS.test(text) && !EXPONENT_ONLY.test(text)) return text;
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
