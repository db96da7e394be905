// The sign-in screen, shown in place of any page while nobody is signed in; the address stays,
// so a shared link opens where it points once signed in.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api/client";
import { ErrorBox } from "../components/States";

export function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const queries = useQueryClient();
  const login = useMutation({
    mutationFn: () => unwrap(api.POST("/api/auth/login", { body: { email, password } })),
    onSuccess: (me) => {
      // Forget what was read signed out, then show the page with who signed in.
      queries.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      queries.setQueryData(["me"], me);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  return (
    <main className="signin" id="main">
      <form className="panel" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">
          <img src="/favicon.svg" alt="" width={28} height={28} /> Sign in to Touchpath
        </h1>
        <label>
          Email
          <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
        {login.error && <ErrorBox error={login.error} />}
        <p className="hint">
          No account yet? An admin adds you with <code>touchpath users add you@example.com</code>;{" "}
          <code>make demo</code> prints the demo owner&apos;s password.
        </p>
      </form>
    </main>
  );
}
