// Bundles the console (dist/cli.js, node_modules resolved at run time) and the agent
// (dist/agent.mjs, one self-contained file: it is uploaded to hosts that have only Node).
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', legalComments: 'none' };

await build({
  ...common,
  entryPoints: ['agent/main.ts'],
  outfile: 'dist/agent.mjs',
  // CommonJS dependencies inside an ESM bundle still call require(): give them one.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __drbdCreateRequire } from 'node:module';\nconst require = __drbdCreateRequire(import.meta.url);" },
});

await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  packages: 'external',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  banner: { js: '#!/usr/bin/env node' },
});

await chmod('dist/agent.mjs', 0o755);
await chmod('dist/cli.js', 0o755);
