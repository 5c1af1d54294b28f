/**
 * The raw configuration tree, before validation: nested sections of string/number/boolean/null
 * leaves, addressed by `Section:Key` paths as in ASP.NET Core configuration.
 *
 * Keys match case-insensitively (`IOT__AWS__SHADOW__POLLINTERVALSECONDS` sets
 * `IoT:Aws:Shadow:PollIntervalSeconds`); the first spelling seen wins, and the defaults are merged
 * first, so known keys keep their canonical spelling. Arrays are held as index-keyed sections while
 * merging (env `Auth__Tokens__0__Name` can override one field of a token from the JSON file) and
 * turned back into arrays by `finishTree`.
 */
export type ConfigLeaf = string | number | boolean | null;
export interface ConfigSection {
  [key: string]: ConfigNode;
}
export type ConfigNode = ConfigLeaf | ConfigSection;

export function isSection(node: unknown): node is ConfigSection {
  return typeof node === "object" && node !== null && !Array.isArray(node);
}

function findKey(section: ConfigSection, key: string): string {
  const lower = key.toLowerCase();
  return Object.keys(section).find((k) => k.toLowerCase() === lower) ?? key;
}

/** Converts a parsed JSON value into a tree (arrays become index-keyed sections). */
export function toTree(value: unknown): ConfigNode {
  if (Array.isArray(value)) {
    const section: ConfigSection = {};
    value.forEach((item, index) => {
      section[String(index)] = toTree(item);
    });
    return section;
  }
  if (isSection(value)) {
    const section: ConfigSection = {};
    for (const [key, item] of Object.entries(value)) section[findKey(section, key)] = toTree(item);
    return section;
  }
  if (
    value === null ||
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean"
  ) {
    return value;
  }
  return String(value);
}

/** Sets one leaf by path (`["IoT", "Aws", "Shadow", "PollIntervalSeconds"]`), creating sections. */
export function setPath(tree: ConfigSection, path: readonly string[], value: ConfigLeaf): void {
  let section = tree;
  path.forEach((segment, index) => {
    const key = findKey(section, segment);
    if (index === path.length - 1) {
      section[key] = value;
      return;
    }
    const next = section[key];
    if (isSection(next)) {
      section = next;
    } else {
      const created: ConfigSection = {};
      section[key] = created;
      section = created;
    }
  });
}

/** Deep-merges `layer` onto `base` (later layer wins per leaf); returns `base`. */
export function mergeTree(base: ConfigSection, layer: ConfigSection): ConfigSection {
  for (const [rawKey, value] of Object.entries(layer)) {
    const key = findKey(base, rawKey);
    const current = base[key];
    if (isSection(value) && isSection(current)) mergeTree(current, value);
    else base[key] = isSection(value) ? mergeTree({}, value) : value;
  }
  return base;
}

/** Finds a node by a case-insensitive path. */
export function getPath(tree: ConfigSection, path: readonly string[]): ConfigNode | undefined {
  let node: ConfigNode | undefined = tree;
  for (const segment of path) {
    if (!isSection(node)) return undefined;
    node = node[findKey(node, segment)];
  }
  return node;
}

const INDEX = /^(0|[1-9]\d*)$/;

/**
 * Plain JSON view of a tree: sections whose keys are all array indexes become arrays (ordered by
 * index, gaps closed, as ASP.NET binds them).
 */
export function finishTree(node: ConfigNode | undefined): unknown {
  if (!isSection(node)) return node;
  const keys = Object.keys(node);
  if (keys.length > 0 && keys.every((k) => INDEX.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((index) => finishTree(node[String(index)]));
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = finishTree(node[key]);
  return out;
}
