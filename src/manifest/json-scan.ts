/**
 * A strict JSON checker that JSON.parse does not do for us: it reports where the first
 * syntax error is (line and column; V8's messages often give neither), refuses
 * duplicate keys (JSON.parse keeps the last one silently, so a reviewer could read one
 * value while the core uses another) and bounds nesting depth before anything recurses.
 */

export interface JsonScanError {
  message: string;
  offset: number;
}

class ScanError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX4 = /^[0-9a-fA-F]{4}$/;

function show(char: string | undefined): string {
  return char === undefined ? "end of input" : JSON.stringify(char);
}

class Scanner {
  private i = 0;
  private readonly text: string;
  private readonly maxDepth: number;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  run(): void {
    this.ws();
    this.value(0);
    this.ws();
    if (this.i < this.text.length)
      this.fail(`unexpected ${show(this.text[this.i])} after the end of the document`);
  }

  private fail(message: string, at = this.i): never {
    throw new ScanError(message, at);
  }

  private ws(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  private expect(char: string): void {
    if (this.text[this.i] !== char) this.fail(`expected ${show(char)}, found ${show(this.text[this.i])}`);
    this.i++;
  }

  private value(depth: number): void {
    const c = this.text[this.i];
    if (c === "{") this.object(depth + 1);
    else if (c === "[") this.array(depth + 1);
    else if (c === '"') this.string();
    else if (c === "t") this.literal("true");
    else if (c === "f") this.literal("false");
    else if (c === "n") this.literal("null");
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) this.number();
    else this.fail(`unexpected ${show(c)}, expected a value`);
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nested deeper than ${this.maxDepth} levels`);
    this.i++;
    this.ws();
  }

  private object(depth: number): void {
    this.enter(depth);
    if (this.text[this.i] === "}") {
      this.i++;
      return;
    }
    const keys = new Set<string>();
    for (;;) {
      const start = this.i;
      if (this.text[this.i] !== '"')
        this.fail(`expected a key in double quotes, found ${show(this.text[this.i])}`);
      const key = this.string();
      if (keys.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`, start);
      keys.add(key);
      this.ws();
      this.expect(":");
      this.ws();
      this.value(depth);
      this.ws();
      if (this.text[this.i] === ",") {
        this.i++;
        this.ws();
      } else if (this.text[this.i] === "}") {
        this.i++;
        return;
      } else this.fail(`expected "," or "}", found ${show(this.text[this.i])}`);
    }
  }

  private array(depth: number): void {
    this.enter(depth);
    if (this.text[this.i] === "]") {
      this.i++;
      return;
    }
    for (;;) {
      this.value(depth);
      this.ws();
      if (this.text[this.i] === ",") {
        this.i++;
        this.ws();
      } else if (this.text[this.i] === "]") {
        this.i++;
        return;
      } else this.fail(`expected "," or "]", found ${show(this.text[this.i])}`);
    }
  }

  /** Scans a string literal and returns its decoded value. */
  private string(): string {
    const t = this.text;
    const start = this.i;
    let escaped = false;
    this.i++;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        const literal = t.slice(start, this.i);
        return escaped ? (JSON.parse(literal) as string) : literal.slice(1, -1);
      }
      if (c === 0x5c) {
        escaped = true;
        const next = t[this.i + 1];
        if (next === "u") {
          if (!HEX4.test(t.slice(this.i + 2, this.i + 6))) this.fail("invalid \\u escape");
          this.i += 6;
          continue;
        }
        if (next === undefined || !ESCAPES.has(next)) this.fail(`invalid escape \\${next ?? ""}`);
        this.i += 2;
        continue;
      }
      if (c < 0x20) this.fail("control character in string (escape it)");
      this.i++;
    }
    return this.fail("unterminated string", start);
  }

  private number(): void {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail("invalid number");
    this.i += match[0].length;
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.i))
      this.fail(`unexpected ${show(this.text[this.i])}, expected a value`);
    this.i += word.length;
  }
}

/** The first syntax problem of `text` as strict JSON, or undefined when it is well-formed. */
export function scanJson(text: string, maxDepth: number): JsonScanError | undefined {
  try {
    new Scanner(text, maxDepth).run();
    return undefined;
  } catch (error) {
    if (error instanceof ScanError) return { message: error.message, offset: error.offset };
    throw error;
  }
}
