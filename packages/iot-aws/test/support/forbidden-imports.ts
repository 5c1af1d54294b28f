/**
 * The dependency rule of the core packages as a function: which module specifiers a source file
 * imports (static, re-export, side-effect, dynamic `import()` and `require`) that `@granit/iot` and
 * `@granit/iot-aws` must never use — the AWS SDK and database drivers (DESIGN.md §2).
 */
const FORBIDDEN: readonly RegExp[] = [
  /^@aws-sdk\//,
  /^@smithy\//,
  /^pg$/,
  /^pg\//,
  /^@electric-sql\//,
  /^drizzle-orm(\/|$)/,
  /^postgres$/,
];

const SPECIFIERS: readonly RegExp[] = [
  /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*["']([^"']+)["']/g,
  /\bexport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
];

export interface ForbiddenImport {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
}

/** Every forbidden import in `source` (comments are ignored). */
export function findForbiddenImports(source: string, file: string): ForbiddenImport[] {
  const code = stripComments(source);
  const found: ForbiddenImport[] = [];
  for (const pattern of SPECIFIERS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1] ?? "";
      if (!FORBIDDEN.some((rule) => rule.test(specifier))) continue;
      const line = code.slice(0, match.index).split("\n").length;
      if (!found.some((f) => f.line === line && f.specifier === specifier))
        found.push({ file, line, specifier });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

/** Blanks out comments but keeps line breaks, so line numbers stay right. */
function stripComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "))
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}
