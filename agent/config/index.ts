// The public face of agent/config: everything the daemon, the CLI and the console import.
export type { ResourceConfig, HostConfig, VolumeConfig, NetConfig, IscsiConfig, ChapConfig, ConfigError, Protocol } from './types.js';
export { formatConfigError } from './types.js';
export { parseResourceYaml, parseResourceRes, loadResourceFile, loadConfigDir, localHost, errorsForResource, CONFIG_EXTENSIONS } from './load.js';
export type { LoadOptions, ParseResult } from './load.js';
export { configHash } from './hash.js';
