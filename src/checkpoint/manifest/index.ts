export * from './manifest';
export {
  decodeManifest,
  encodeManifest,
  validateManifest,
  type DecodeManifestOptions,
} from './manifest-codec';
export { StateDigest } from './state-digest';
