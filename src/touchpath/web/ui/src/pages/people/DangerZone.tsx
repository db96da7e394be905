// Delete everything about a person, optionally suppressing their future messages (admins).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { ErrorBox } from "../../components/States";

export function DangerZone({ userId }: { userId: string }) {
  const [typed, setTyped] = useState("");
  const [suppress, setSuppress] = useState(true);
  const navigate = useNavigate();
  const queries = useQueryClient();
  const del = useMutation({
    mutationFn: () => unwrap(api.POST("/api/privacy/delete", { body: { userId, suppress } })),
    onSuccess: () => {
      void queries.invalidateQueries();
      void navigate("/people", { replace: true });
    },
  });
  return (
    <section className="panel danger-zone" aria-label="Delete this person">
      <h2>Delete this person</h2>
      <p>
        Removes every event, identifier, trait and audience membership of user <code>{userId}</code> in
        one transaction. This cannot be undone.
      </p>
      <div className="toolbar">
        <label>
          Type the user id to confirm
          <input value={typed} onChange={(e) => setTyped(e.target.value)} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={suppress} onChange={(e) => setSuppress(e.target.checked)} /> Also
          suppress: drop their future messages
        </label>
        <button
          type="button"
          className="danger"
          disabled={typed !== userId || del.isPending}
          onClick={() => del.mutate()}
        >
          Delete {userId}
        </button>
      </div>
      {del.error && <ErrorBox error={del.error} />}
    </section>
  );
}
