/**
 * Just enough PromQL reading to check a query against metric definitions: which series it selects,
 * which labels it matches on, which labels it groups by. Not a parser for arbitrary PromQL.
 */

export interface QueryUse {
  /** Series names, e.g. `mlservice_request_duration_seconds_bucket`. */
  readonly series: string[];
  /** Label matchers per series: `{ series, label }`. */
  readonly matchers: Array<{ series: string; label: string }>;
  /** Labels in `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_left (...)`. */
  readonly grouping: string[];
}

const keywords = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

export function readQuery(expr: string): QueryUse {
  let q = expr
    // string literals (label values, label_replace arguments) carry no names
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    // range and subquery selectors
    .replace(/\[[^\]]*\]/g, '');
  const grouping: string[] = [];
  q = q.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_m, _k, labels: string) => {
      grouping.push(
        ...labels
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      );
      return ' ';
    },
  );
  const series: string[] = [];
  const matchers: Array<{ series: string; label: string }> = [];
  q = q.replace(
    /([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}/g,
    (_m, name: string | undefined, body: string) => {
      const metric = name && !keywords.has(name) ? name : '';
      for (const m of body.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)/g)) {
        if (m[1] === '__name__') throw new Error(`__name__ matchers are not supported: ${expr}`);
        matchers.push({ series: metric, label: m[1]! });
      }
      if (metric) series.push(metric);
      return ' ';
    },
  );
  for (const m of q.matchAll(/(?<![\w.$])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || keywords.has(name!.toLowerCase())) continue;
    series.push(name!);
  }
  return { series, matchers, grouping };
}
