/** Runs a command-line entry point: exits with its code, or with 1 and the error's message (no stack trace). */
export function runCli(main: () => Promise<number>, log: (line: string) => void = (l) => console.error(l)): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
