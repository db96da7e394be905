// A secret the server shows once (a password, a token): copy it now.
import { CopyBlock } from "../../components/Copy";

export function SecretOnce({ title, secret, onDone }: { title: string; secret: string; onDone: () => void }) {
  return (
    <div className="banner info" role="status">
      <strong>{title}</strong> It is shown only now; copy it and hand it over safely.
      <CopyBlock text={secret} label={title} />
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
