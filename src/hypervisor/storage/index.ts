// Storage rules shared by the mock and the libvirt backend: where a disk's image is or will be,
// where a relative ISO name points, which CD-ROM a control-plane device name means, the CD-ROMs
// the node adds, resize limits, and what an image's header says. Pure apart from a StorageFs
// (and readImageInfo/readHeader, the thin readers).

export {
  planDisk,
  poolById,
  checkVolumeName,
  volumeFileNames,
  newVolumeFileName,
  generatedVolumeName,
  backingCandidates,
  IMAGE_EXTENSIONS,
  type DiskPlan,
  type PlanOptions,
  type PoolDir,
} from "./plan-disk.ts";
export { resolveIsoPath, isoCandidates } from "./iso-path.ts";
export { cdromForDevice, cdromOfVm } from "./cdrom-device.ts";
export { withNodeCdroms, withoutNodeCdroms, emptyCdrom, emptyCdromId, cloudInitCdrom, cloudInitIsoName, cloudInitDrive } from "./node-cdroms.ts";
export { growOnly, MAX_VOLUME_BYTES, SECTOR_BYTES } from "./grow-only.ts";
export { formatOf, isQcow2, qcow2VirtualSize, readImageInfo, readHeader, overlaySize, IMAGE_HEADER_BYTES, type ImageInfo } from "./image-header.ts";
export { nodeStorageFs, fakeStorageFs, type StorageFs } from "./storage-fs.ts";
export { inside, candidate, firstContained, type Candidate } from "./lookup.ts";
export { cloudInitIsoBytes, writeCloudInitIso } from "./cloud-init-iso.ts";
