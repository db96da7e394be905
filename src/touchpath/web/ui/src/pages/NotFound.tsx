import { Link, useLocation } from "react-router";

export function NotFound() {
  const { pathname } = useLocation();
  return (
    <>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{pathname}</code>. Go back <Link to="/">home</Link>.
      </p>
    </>
  );
}
