// Finds drop numbers in free text typed on phones: "DR12345678", "dr 12345678", "DR-12345678", several per
// message. The default pattern is DR + 8 digits on word boundaries; a project may override it.

export const DEFAULT_DROP_PATTERN = String.raw`\bDR[ -]?(\d{8})\b`;

export interface DropDetector {
  readonly source: string;
  detect(text: string): string[];
}

/**
 * Builds a detector from a pattern. The pattern is matched case-insensitively; if it has a capture group the
 * drop number is "DR" + group 1 (so separators and case normalise away), otherwise the whole match with
 * everything but letters and digits removed, upper-cased. Throws on an invalid regular expression.
 */
export function createDropDetector(pattern: string = DEFAULT_DROP_PATTERN): DropDetector {
  const re = new RegExp(pattern, "gi");
  const grouped = new RegExp(`${pattern}|`).exec("")!.length > 1;
  return {
    source: pattern,
    detect(text: string): string[] {
      const found = new Set<string>();
      for (const m of text.matchAll(re)) {
        const raw = grouped && m[1] !== undefined ? `DR${m[1]}` : m[0];
        // Whatever a custom pattern matched, a drop number is letters and digits only.
        const drop = raw.replace(/[^0-9A-Za-z]+/g, "").toUpperCase();
        if (/^[A-Z0-9]{2,40}$/.test(drop)) found.add(drop);
      }
      return [...found];
    },
  };
}

const defaultDetector = createDropDetector();

export function detectDropNumbers(text: string): string[] {
  return defaultDetector.detect(text);
}
