/**
 * The migration files on disk, under our rules, which are stricter than
 * postgres-migrations': `NNNN_snake_case.sql`, ids consecutive from 1, and a
 * `down/` file of the same name for every up file (down and status need it).
 *
 * The hash of each file is the one postgres-migrations records when it applies
 * the file, taken from its documented `loadMigrationFiles` rather than
 * recomputed here, so that comparing files with the bookkeeping table keeps
 * working whatever the library hashes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadMigrationFiles } from 'postgres-migrations';
import { MigrationError } from '../errors.js';
import { migrationsDir } from '../paths.js';

export interface MigrationFile {
  id: number;
  name: string;
  fileName: string;
  path: string;
  downPath: string;
  /** What postgres-migrations records for this file in its bookkeeping table. */
  hash: string;
}

const FILE_PATTERN = /^(\d+)_([a-z0-9_]+)\.sql$/;

/** The up files of `dir` checked against our rules, without hashes: all that `create` needs, synchronously. */
export function scanMigrationFiles(dir = migrationsDir): Omit<MigrationFile, 'hash'>[] {
  const files: Omit<MigrationFile, 'hash'>[] = [];
  for (const fileName of fs.readdirSync(dir).sort()) {
    if (!fileName.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(fileName);
    if (!match) throw new MigrationError(`migration file name ${fileName} is not <number>_<snake_case_name>.sql`, { file: fileName });
    files.push({
      id: Number(match[1]),
      name: match[2]!,
      fileName,
      path: path.join(dir, fileName),
      downPath: path.join(dir, 'down', fileName),
    });
  }
  files.sort((a, b) => a.id - b.id);
  files.forEach((file, index) => {
    if (file.id !== index + 1) {
      throw new MigrationError(`migration ids must be consecutive from 1: ${file.fileName} has id ${file.id}, expected ${index + 1}`, {
        file: file.fileName,
      });
    }
    if (!fs.existsSync(file.downPath)) {
      throw new MigrationError(`migration ${file.fileName} has no down file (expected ${path.relative(process.cwd(), file.downPath)})`, {
        file: file.fileName,
      });
    }
  });
  return files;
}

/**
 * What postgres-migrations records for each file of `dir` when it applies it
 * (id, name, hash), its own table-creating migration 0 included.
 */
export async function loadBookkeepingRows(dir = migrationsDir): Promise<{ id: number; name: string; hash: string; fileName: string }[]> {
  try {
    return (await loadMigrationFiles(dir)).map(({ id, name, hash, fileName }) => ({ id, name, hash, fileName }));
  } catch (error) {
    throw new MigrationError(`postgres-migrations refused the migration files in ${dir}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}

/** The up files of `dir` in id order, each with the hash postgres-migrations records for it. */
export async function listMigrationFiles(dir = migrationsDir): Promise<MigrationFile[]> {
  const files = scanMigrationFiles(dir);
  const loaded = await loadBookkeepingRows(dir);
  return files.map((file) => {
    const migration = loaded.find((m) => m.id === file.id);
    if (!migration || migration.fileName !== file.fileName) {
      throw new MigrationError(`postgres-migrations did not load ${file.fileName} as migration ${file.id}`, { file: file.fileName });
    }
    return { ...file, hash: migration.hash };
  });
}
