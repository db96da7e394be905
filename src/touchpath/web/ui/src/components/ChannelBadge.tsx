import { channelColour } from "../charts/palette";

/** A channel name with its colour (the same in every chart) as a dot; the text stays dark. */
export function ChannelBadge({ channel }: { channel: string | null | undefined }) {
  if (!channel) return <span className="badge muted">none</span>;
  return (
    <span className="badge">
      <span className="dot" style={{ background: channelColour(channel) }} aria-hidden="true" />
      {channel}
    </span>
  );
}
