import { readFileSync } from 'node:fs';
import { CORE_SCHEMA, defineMappingTag, defineScalarTag, defineSequenceTag, load, type TagDefinition } from 'js-yaml';

/** The intrinsic functions CloudFormation accepts in short form (`!Ref`, `!Sub`, …), by their long name. */
const INTRINSICS = [
  'Ref', 'Condition', 'Fn::And', 'Fn::Base64', 'Fn::Cidr', 'Fn::Equals', 'Fn::FindInMap', 'Fn::GetAtt',
  'Fn::GetAZs', 'Fn::If', 'Fn::ImportValue', 'Fn::Join', 'Fn::Not', 'Fn::Or', 'Fn::Select', 'Fn::Split', 'Fn::Sub',
];

/** `!GetAtt A.B` is the short form of `Fn::GetAtt: [A, B]`; the attribute itself may hold dots. */
function longForm(fn: string, value: unknown): Record<string, unknown> {
  if (fn === 'Fn::GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { [fn]: [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [fn]: value };
}

/** One tag per node kind, since a short form may tag a scalar (`!Ref X`), a list (`!If [...]`) or a map. */
function shortFormTags(fn: string): TagDefinition[] {
  const tag = `!${fn.replace(/^Fn::/, '')}`;
  const wrap = (value: unknown) => longForm(fn, value);
  const loadOnly = () => false;
  return [
    defineScalarTag(tag, { resolve: wrap, identify: loadOnly }),
    defineSequenceTag(tag, {
      create: (): unknown[] => [],
      addItem: (items, item) => void items.push(item),
      finalize: wrap,
      identify: loadOnly,
    }),
    defineMappingTag(tag, {
      create: (): Record<string, unknown> => ({}),
      addPair: (map, key, value) => ((map[String(key)] = value), ''),
      has: (map, key) => Object.hasOwn(map, String(key)),
      keys: (map) => Object.keys(map),
      get: (map, key) => map[String(key)],
      finalize: wrap,
      identify: loadOnly,
    }),
  ];
}

/** YAML 1.2 core schema plus CloudFormation's short-form intrinsics, loaded as their long (JSON) form. */
export const CLOUDFORMATION_SCHEMA = CORE_SCHEMA.withTags(...INTRINSICS.map(shortFormTags));

/** Parses a YAML file of the repository that may use CloudFormation short forms. */
export function loadYamlFile(path: string): unknown {
  return load(readFileSync(path, 'utf8'), { schema: CLOUDFORMATION_SCHEMA });
}
