// Builds dist/: compiles src/ and copies the SQL migrations and the detectors' word lists beside the compiled code.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
cpSync('src/detect/data', 'dist/detect/data', { recursive: true });
chmodSync('dist/cli/main.js', 0o755);
