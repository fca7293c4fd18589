// The resource-file reader the console checks a file with before it puts it on both hosts (the
// C key, --config): the agent's own parser and validation, so that a file the console accepts is
// one both agents load, and the warnings the agent's snapshot carries read the same in the console.
export { formatConfigError, parseResourceRes, parseResourceYaml } from '../config/index.js';
export { describeFsError, readBounded } from '../config/load.js';
export { formatOfFile, type ResourceFormat } from '../config/resource-files.js';
export { configSecrets, maskSecrets } from '../config/secret-mask.js';
export { secretFileWarning } from '../config/file-mode.js';
export type { ResourceConfig } from '../config/types.js';
export { exposureWarning } from '../iscsi/exposure.js';
