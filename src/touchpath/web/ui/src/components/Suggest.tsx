// A text box with suggestions (a native datalist: keyboard and screen-reader friendly).
import { useId } from "react";

interface Props {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; hint?: string }[];
  placeholder?: string;
  width?: number;
}

export function Suggest({ label, value, onChange, options, placeholder, width = 200 }: Props) {
  const id = useId();
  return (
    <label>
      {label}
      <input
        list={id}
        value={value}
        placeholder={placeholder}
        style={{ width }}
        onChange={(e) => onChange(e.target.value)}
      />
      <datalist id={id}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.hint}
          </option>
        ))}
      </datalist>
    </label>
  );
}
