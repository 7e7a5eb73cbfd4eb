// Times as the teams read them: in the edge's time zone (from GET /v1/settings), whatever the browser's is.
export interface Clock {
  /** An instant as "24 Nov 2026, 10:15", or "–" for none. */
  when(iso: string | null): string;
  /** An instant's time of day, "10:15". */
  time(iso: string): string;
  /** The local date of an instant there, as YYYY-MM-DD. */
  day(iso: string): string;
  /** Today's date there, as YYYY-MM-DD. */
  today(): string;
}

export function clockIn(timeZone: string): Clock {
  const when = new Intl.DateTimeFormat("en-ZA", { timeZone, dateStyle: "medium", timeStyle: "short" });
  const time = new Intl.DateTimeFormat("en-ZA", { timeZone, timeStyle: "short" });
  const day = new Intl.DateTimeFormat("en-CA", { timeZone });
  return {
    when: (iso) => (iso ? when.format(new Date(iso)) : "–"),
    time: (iso) => time.format(new Date(iso)),
    day: (iso) => day.format(new Date(iso)),
    today: () => day.format(new Date()),
  };
}

/** A calendar date (YYYY-MM-DD) moved by whole days: calendar arithmetic, no time zone involved. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(date + "T00:00:00Z") + days * 86_400_000).toISOString().slice(0, 10);
}

const shortDate = new Intl.DateTimeFormat("en-ZA", { timeZone: "UTC", day: "numeric", month: "short" });
/** A calendar date as "24 Nov". */
export function dayLabel(date: string): string {
  return shortDate.format(new Date(date + "T00:00:00Z"));
}
