// The living demo's planted truths in words (pure, checked by Vitest).

export interface Measured {
  channel: string;
  messages: number;
  planted_click: number | null;
  clicked: number | null;
  bought: number | null;
  unsubscribed: number | null;
  clicked_night: number | null;
  clicked_day: number | null;
}

export interface Truth {
  planted: {
    arrivals: { app_share: number; own_return: number };
    reactions: {
      click: Record<string, number>;
      template: Record<string, number>;
      night: [number, number];
      night_factor: number;
      fatigue: number;
      buy_after_click: number;
    };
    app_checkout: { payment_ok_web: number; payment_ok_app: number };
  };
  measured: Measured[];
}

export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`;
}

/** One sentence per planted effect. */
export function describeReactions(t: Truth): string[] {
  const r = t.planted.reactions;
  const a = t.planted.app_checkout;
  const channels = Object.entries(r.click).map(([ch, p]) => `${ch} ${pct(p)}`).join(", ");
  const templates = Object.entries(r.template).map(([w, f]) => `“${w}” ×${f}`).join(", ");
  return [
    `App checkout: payment goes through ${pct(a.payment_ok_app)} of the time in the app, ${pct(a.payment_ok_web)} on the web.`,
    `A fresh message at a good hour brings its person back: ${channels}.`,
    `Templates whose name says ${templates} work that much better or worse.`,
    `At night (${r.night[0]}:00 to ${r.night[1]}:00 in the person's zone) the chance is ×${r.night_factor}.`,
    `Each message in the 24 hours before multiplies it by ${r.fatigue} (fatigue), and unsubscribing grows.`,
    `Brought back to an open checkout, ${pct(r.buy_after_click)} buy; ${pct(t.planted.arrivals.own_return)} of abandoned checkouts come back on their own.`,
  ];
}
