/**
 * Where the package's own files are. Resolved from this module, never from the
 * current directory, so that the migrate command and the queries work from
 * wherever the package is installed.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const migrationsDir = path.join(packageRoot, 'migrations');
