// Times as the teams read them: in the edge's time zone (from GET /v1/settings), whatever the browser's is.
export interface Clock {
  /** An instant as "24 Nov 2026, 10:15", or "–" for none. */
  when(iso: string | null): string;
  /** Today's date there, as YYYY-MM-DD. */
  today(): string;
}

export function clockIn(timeZone: string): Clock {
  const when = new Intl.DateTimeFormat("en-ZA", { timeZone, dateStyle: "medium", timeStyle: "short" });
  const day = new Intl.DateTimeFormat("en-CA", { timeZone });
  return {
    when: (iso) => (iso ? when.format(new Date(iso)) : "–"),
    today: () => day.format(new Date()),
  };
}
