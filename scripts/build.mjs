// Builds dist/: compiles src/ and copies the SQL migrations and the detectors' word lists beside the compiled code; then the SDK's packages/sdk/dist.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';

const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc('tsconfig.build.json');
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
cpSync('src/detect/data', 'dist/detect/data', { recursive: true });
chmodSync('dist/cli/main.js', 0o755);
rmSync('packages/sdk/dist', { recursive: true, force: true });
tsc('packages/sdk/tsconfig.json');
