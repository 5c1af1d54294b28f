/**
 * The repository's one test command (`npm test`): runs every `*.test.ts` of every package with
 * `node --test`, prints the spec report, and fails when a test fails or when no test ran at all
 * (node's runner exits 0 on an empty match, which would let a broken glob land silently).
 *
 * Usage: `npm test [-- <substring> ...]` runs only the test files whose path contains a substring.
 * `DATABASE_URL` set → database tests also run on PostgreSQL; PGlite always runs.
 */
import { glob } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { run } from "node:test";
import { spec } from "node:test/reporters";

const filters = process.argv.slice(2);
const files: string[] = [];
for await (const file of glob([
  "packages/*/test/**/*.test.ts",
  "apps/*/test/**/*.test.ts",
  "test/**/*.test.ts",
])) {
  if (filters.length === 0 || filters.some((f) => file.includes(f))) files.push(file);
}
files.sort();

const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
let passed = 0;
let failed = 0;
let skipped = 0;

const stream = run({ files, concurrency, timeout: 240_000 });
stream.on("test:pass", (event) => {
  if (event.details.type === "suite") return;
  if (event.skip || event.todo) skipped++;
  else passed++;
});
stream.on("test:fail", (event) => {
  if (
    event.details.type === "suite" &&
    (event.details.error as { failureType?: string } | undefined)?.failureType === "subtestsFailed"
  )
    return;
  failed++;
});
stream.on("end", () => {
  const summary = `\n# files ${files.length}  tests ${passed + failed + skipped}  passed ${passed}  failed ${failed}  skipped ${skipped}\n`;
  process.stdout.write(summary);
  if (passed + failed === 0) {
    process.stdout.write("# no test ran: refusing to report success\n");
    process.exitCode = 1;
  } else if (failed > 0) {
    process.exitCode = 1;
  }
});
stream.compose(spec).pipe(process.stdout);
