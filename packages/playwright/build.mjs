// `prepare` script: build dist/ (TypeScript -> JavaScript + .d.ts).
//
// npm runs `prepare` after `npm ci`/`npm install` here, before `npm pack`, and
// when another project installs this directory as a dependency (e.g.
// examples/playwright's "file:../../packages/playwright"). In that last case
// npm does not install this package's devDependencies first, so install them
// here (from package-lock.json, without scripts) when the compiler is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: here, stdio: 'inherit', timeout: 300_000 });

if (!existsSync(tsc) || !existsSync(join(here, 'node_modules', '@playwright', 'test'))) {
  console.error('@mock-idp/playwright: installing its build dependencies (npm ci --ignore-scripts)');
  const npm = process.env.npm_execpath;
  // Under npm, npm_execpath is npm's CLI script; run it with this node.
  if (npm && npm.endsWith('.js')) {
    run(process.execPath, [npm, 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']);
  } else {
    run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']);
  }
}
run(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')]);
