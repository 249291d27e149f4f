/**
 * A strict JSON reader (RFC 8259) that keeps every number's text as written and refuses duplicate member names.
 *
 * OCMF needs both: RV's digits are the meter's stated precision and must not pass through a binary float (OCMF 1.3,
 * Table 7, RV: "the representation must not be transformed ... by JSON parser"), and a signed payload with a name
 * twice would mean different things to different parsers, so it has no one meaning to verify. Browser-safe.
 */
import { OcmfEncodingError } from "./ocmfCrypto.ts";

/** A JSON number as written, e.g. `2935.60` or `1E-3`. */
export class JsonNumber {
  /** @param text the number's source text, matching RFC 8259 section 6 */
  constructor(readonly text: string) {}
}

/** A JSON value with numbers kept as {@link JsonNumber}; objects are null-prototype records. */
export type ExactJson = null | boolean | string | JsonNumber | ExactJson[] | { [name: string]: ExactJson };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Any quoted text; JSON.parse then applies RFC 8259's rules on escapes and control characters.
const STRING = /"(?:[^"\\]|\\.)*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses `text` as one JSON value.
 * @param what names the text in errors, e.g. "payload section"
 * @throws OcmfEncodingError naming the offset and what was expected there
 */
export function parseExactJson(text: string, what: string): ExactJson {
  let at = 0;
  const fail = (message: string): never => {
    throw new OcmfEncodingError(`${what}: ${message} at offset ${at}`);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    at = re.lastIndex;
    return m[0];
  };
  const string = (what: string): string => {
    const start = at;
    const raw = match(STRING) ?? fail(`expected ${what}`);
    try {
      return JSON.parse(raw) as string;
    } catch {
      at = start;
      return fail("bad string (control character or escape)");
    }
  };
  const value = (depth: number): ExactJson => {
    if (depth > 32) fail("nested too deeply");
    skip();
    const c = text[at];
    if (c === "{") {
      at++;
      const out: { [name: string]: ExactJson } = Object.create(null);
      skip();
      if (text[at] === "}") return (at++, out);
      for (;;) {
        skip();
        const name = string("a member name");
        if (Object.hasOwn(out, name)) fail(`member "${name}" given twice`);
        skip();
        if (text[at++] !== ":") fail(`expected ':' after "${name}"`);
        out[name] = value(depth + 1);
        skip();
        const next = text[at++];
        if (next === "}") return out;
        if (next !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      at++;
      const out: ExactJson[] = [];
      skip();
      if (text[at] === "]") return (at++, out);
      for (;;) {
        out.push(value(depth + 1));
        skip();
        const next = text[at++];
        if (next === "]") return out;
        if (next !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string("a string");
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, at)) return ((at += word.length), v);
    }
    const number = match(NUMBER);
    if (number !== undefined) return new JsonNumber(number);
    return fail("expected a JSON value");
  };
  const result = value(0);
  skip();
  if (at !== text.length) fail("unexpected text after the JSON value");
  return result;
}
