/**
 * The end of every command (demo, seed, codegen): exit status 0 when its main
 * function resolves, 1 with its message when it throws.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`${name} failed: ${(error as Error)?.message ?? String(error)}`);
      process.exit(1);
    },
  );
}
