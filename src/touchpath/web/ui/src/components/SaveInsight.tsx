// "Save insight": keeps the analysis on screen (its spec, kind included) under a name, then
// offers to add it to a dashboard. Shown to editors; viewers can open saved insights only.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { api, send, unwrap } from "../api/client";
import { can, useMe } from "../auth/session";
import { ErrorBox } from "./States";
import { Suggest } from "./Suggest";

interface Props {
  /** The spec to save, with its `kind` (what POST /api/analyses/{kind} was sent). */
  spec: { kind: string } & Record<string, unknown>;
  /** A name to start from, e.g. the funnel's steps. */
  suggested: string;
}

const path = (name: string) => encodeURIComponent(name);

export function SaveInsight({ spec, suggested }: Props) {
  const me = useMe();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: (n: string) => send("PUT", `/api/insights/${path(n)}`, { spec, description }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["insights"] }),
  });
  if (!can(me.data, "editor")) return null;
  if (!open) {
    return (
      <button
        type="button"
        onClick={() => {
          setName(suggested.slice(0, 100).replaceAll("/", "-"));
          save.reset();
          setOpen(true);
        }}
      >
        Save insight
      </button>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(name.trim());
  };
  return (
    <section className="panel save-insight" aria-label="Save insight">
      <form className="toolbar" onSubmit={submit}>
        <label>
          Insight name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} style={{ width: 300 }} required />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} placeholder="optional" style={{ width: 260 }} />
        </label>
        <button type="submit" className="primary" disabled={!name.trim() || save.isPending}>
          Save
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </form>
      {save.error && <ErrorBox error={save.error} />}
      {save.isSuccess && <AddToDashboard insight={save.variables} />}
    </section>
  );
}

function AddToDashboard({ insight }: { insight: string }) {
  const boards = useQuery({ queryKey: ["dashboards"], queryFn: () => unwrap(api.GET("/api/dashboards")) });
  const [board, setBoard] = useState("");
  const queries = useQueryClient();
  const add = useMutation({
    mutationFn: (b: string) => send("POST", `/api/dashboards/${path(b)}/insights`, { insight }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["dashboards"] }),
  });
  return (
    <div role="status">
      <p>
        Saved as <Link to={`/insights/saved/${path(insight)}`}>{insight}</Link>. It is run afresh whenever it is opened.
      </p>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate(board.trim());
        }}
      >
        <Suggest
          label="Add to dashboard"
          value={board}
          placeholder="a dashboard, new or existing"
          onChange={setBoard}
          options={(boards.data ?? []).map((b) => ({ value: b.name, hint: `${b.insights.length} insights` }))}
          width={260}
        />
        <button type="submit" disabled={!board.trim() || add.isPending}>
          Add
        </button>
      </form>
      {add.error && <ErrorBox error={add.error} />}
      {add.isSuccess && (
        <p>
          Added to <Link to={`/dashboards/${path(add.variables)}`}>{add.variables}</Link>.
        </p>
      )}
    </div>
  );
}
