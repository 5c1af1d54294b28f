/**
 * The repository's dependency rules (DESIGN.md §2), checked on the import statements of every
 * package's `src/`:
 *
 * - a package imports only the `@granit/*` packages its row of the table allows;
 * - `@granit/iot` and `@granit/iot-aws` import no AWS SDK and no database driver;
 * - the six bridge packages never import each other;
 * - nobody reaches into another package's `src/internal/`;
 * - every bare import is declared in the importing package's package.json (or is a Node built-in).
 *
 * Run as a script (`node scripts/architecture.ts`, part of `npm run lint`) or through its exported
 * `checkImports` from the architecture test.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";

export interface Violation {
  readonly file: string;
  readonly specifier: string;
  readonly rule: string;
}

const BRIDGE = [
  "@granit/iot-aws-provisioning",
  "@granit/iot-aws-shadow",
  "@granit/iot-aws-jobs",
  "@granit/iot-aws-fleet-provisioning",
];
const FORBIDDEN_IN_CORE = [
  /^@aws-sdk\//,
  /^@smithy\//,
  /^pg$/,
  /^pg\//,
  /^@electric-sql\//,
  /^drizzle-orm/,
  /^postgres$/,
];

/** Which `@granit/*` packages each package's source may import (DESIGN.md §2). */
export const ALLOWED_GRANIT_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  "@granit/iot": [],
  "@granit/iot-postgres": ["@granit/iot"],
  "@granit/iot-aws": ["@granit/iot"],
  "@granit/iot-aws-postgres": ["@granit/iot", "@granit/iot-aws", "@granit/iot-postgres"],
  "@granit/iot-aws-provisioning": ["@granit/iot", "@granit/iot-aws"],
  "@granit/iot-aws-shadow": ["@granit/iot", "@granit/iot-aws"],
  "@granit/iot-aws-jobs": ["@granit/iot", "@granit/iot-aws"],
  "@granit/iot-aws-fleet-provisioning": ["@granit/iot", "@granit/iot-aws"],
  "@granit/bundle-iot-aws": [
    "@granit/iot",
    "@granit/iot-postgres",
    "@granit/iot-aws",
    "@granit/iot-aws-postgres",
    ...BRIDGE,
  ],
  "@granit/aws-iot-emulator": [],
  "@granit/iot-host": [
    "@granit/iot",
    "@granit/iot-postgres",
    "@granit/iot-aws",
    "@granit/iot-aws-postgres",
    ...BRIDGE,
    "@granit/bundle-iot-aws",
    "@granit/aws-iot-emulator",
  ],
};

// Statements start a line (multi-line import lists contain no ";"); dynamic imports may be anywhere.
const STATIC_IMPORT =
  /^[ \t]*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Bare and relative module specifiers imported by a TypeScript source text, in source order. */
export function importsOf(source: string): string[] {
  const found: { at: number; specifier: string }[] = [];
  for (const match of source.matchAll(STATIC_IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (specifier) found.push({ at: match.index, specifier });
  }
  for (const match of source.matchAll(DYNAMIC_IMPORT)) {
    if (match[1]) found.push({ at: match.index, specifier: match[1] });
  }
  return found.sort((x, y) => x.at - y.at).map((f) => f.specifier);
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Checks one source file of package `owner` (with `declared` dependencies) and returns its violations. */
export function checkImports(
  owner: string,
  file: string,
  source: string,
  declared: ReadonlySet<string>,
): Violation[] {
  const violations: Violation[] = [];
  const allowed = ALLOWED_GRANIT_IMPORTS[owner] ?? [];
  for (const specifier of importsOf(source)) {
    if (specifier.startsWith(".")) {
      if (
        /(^|\/)\.\.\/(\.\.\/)*[^/]+\/src\/internal\//.test(specifier) ||
        /\/packages\/[^/]+\/src\//.test(specifier)
      ) {
        violations.push({ file, specifier, rule: "reaches into another package's source by path" });
      }
      continue;
    }
    if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
    const name = packageNameOf(specifier);
    if (name.startsWith("@granit/")) {
      if (/\/internal(\/|$)/.test(specifier)) {
        violations.push({ file, specifier, rule: "imports another package's internal/ module" });
      }
      if (name !== owner && !allowed.includes(name)) {
        violations.push({ file, specifier, rule: `${owner} may not import ${name} (DESIGN.md §2)` });
      }
    }
    if (
      (owner === "@granit/iot" || owner === "@granit/iot-aws") &&
      FORBIDDEN_IN_CORE.some((r) => r.test(specifier))
    ) {
      violations.push({ file, specifier, rule: `${owner} must not import the AWS SDK or a database driver` });
    }
    if (name !== owner && !declared.has(name)) {
      violations.push({ file, specifier, rule: `${name} is not declared in ${owner}'s package.json` });
    }
  }
  return violations;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly manifest: {
    name: string;
    exports?: Record<string, unknown>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
}

export function workspacePackages(root = process.cwd()): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ["packages", "apps"]) {
    for (const entry of readdirSync(join(root, group))) {
      const dir = join(root, group, entry);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      out.push({ name: manifest.name, dir, manifest });
    }
  }
  return out;
}

/** Every violation in the workspace's `src/` trees. */
export function checkWorkspace(root = process.cwd()): Violation[] {
  const violations: Violation[] = [];
  for (const pkg of workspacePackages(root)) {
    const declared = new Set([
      ...Object.keys(pkg.manifest.dependencies ?? {}),
      ...Object.keys(pkg.manifest.peerDependencies ?? {}),
      ...Object.keys(pkg.manifest.optionalDependencies ?? {}),
    ]);
    for (const file of walk(join(pkg.dir, "src"))) {
      violations.push(...checkImports(pkg.name, relative(root, file), readFileSync(file, "utf8"), declared));
    }
  }
  return violations;
}

if (import.meta.main) {
  const violations = checkWorkspace();
  for (const v of violations) console.error(`✖ ${v.file}: "${v.specifier}" — ${v.rule}`);
  if (violations.length > 0) process.exit(1);
  console.log("✔ architecture: every import follows DESIGN.md §2");
}
