// One set of colours for every chart and channel badge.
export const PALETTE = [
  "#3b5bdb", "#f08c00", "#2b8a3e", "#c2255c", "#0c8599", "#7048e8",
  "#e8590c", "#5c940d", "#1971c2", "#a61e4d", "#495057", "#d6336c",
];

export const CHANNEL_COLOURS: Record<string, string> = {
  direct: "#495057", organic: "#2b8a3e", paid_search: "#f08c00", social: "#c2255c",
  email: "#1971c2", sms: "#0c8599", push: "#7048e8", referral: "#5c940d",
  store: "#e8590c", support: "#a61e4d", app: "#3b5bdb",
};

export function channelColour(channel: string | null | undefined, i = 0): string {
  return (channel && CHANNEL_COLOURS[channel]) || PALETTE[i % PALETTE.length]!;
}
